"""toml_read: TOML 1.1 inline tables over several lines, folded for Python's TOML 1.0 reader."""

import tomllib

import pytest

from freshbin.toml_read import fold_inline_tables, loads


def test_a_multi_line_inline_table_with_comments_and_a_trailing_comma():
    text = 'dep = {\n  version = "1", # pinned\n  features = [\n    "a",\n  ],\n}\n[package]\nname = "x"\n'
    assert loads(text) == {"dep": {"version": "1", "features": ["a"]}, "package": {"name": "x"}}


def test_strings_and_comments_outside_braces_are_kept():
    text = 'a = "{ not a table, }" # { nor this\nb = \'\'\'\n{ x,\n}\'\'\'\nc = { d = "}", }\n'
    assert loads(text) == {"a": "{ not a table, }", "b": "{ x,\n}", "c": {"d": "}"}}
    assert fold_inline_tables('a = 1 # {\n') == 'a = 1 # {\n'


def test_toml_10_text_is_read_unchanged_and_real_errors_stay_tomllibs():
    assert loads('a = { b = 1 }\n') == {"a": {"b": 1}}
    with pytest.raises(tomllib.TOMLDecodeError, match="Invalid"):
        loads("a = = 1\n")
    with pytest.raises(tomllib.TOMLDecodeError):
        loads("a = {\n b = \n}\n")
