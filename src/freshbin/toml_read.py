"""Cargo manifests read as cargo reads them: TOML 1.1, with Python's TOML 1.0 `tomllib`.

cargo 1.95 accepts TOML 1.1, whose most used addition in real manifests is the inline table over
several lines (`ratatui = {\n  version = "0.30",\n  features = [...],\n}`: newlines, comments
and a trailing comma inside the braces).  tomllib refuses those, so detect stopped with exit 2 on
a workspace cargo builds (gitui's, tests/realrepos/detect_truth.json).  A manifest tomllib
refuses is read again with every inline table folded onto one line; what still fails is reported
with tomllib's first error.
"""

from __future__ import annotations

import tomllib
from typing import Any

_QUOTES = ('"""', "'''", '"', "'")


def loads(text: str) -> dict[str, Any]:
    """`tomllib.loads`, accepting TOML 1.1's multi-line inline tables."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as first:
        folded = fold_inline_tables(text)
        if folded == text:
            raise
        try:
            return tomllib.loads(folded)
        except tomllib.TOMLDecodeError:
            raise first from None


def fold_inline_tables(text: str) -> str:
    """Inside `{…}` (outside strings): newlines become spaces, comments and a comma right
    before the closing brace go.  Outside braces nothing changes."""
    out: list[str] = []
    depth, i, n = 0, 0, len(text)
    while i < n:
        quote = next((q for q in _QUOTES if text.startswith(q, i)), None)
        if quote is not None:
            end = _string_end(text, i, quote)
            out.append(text[i:end])
            i = end
            continue
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append("" if depth else text[i:end])
            i = end
            continue
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            _drop_trailing_comma(out)
        elif ch in "\r\n" and depth:
            ch = " "
        out.append(ch)
        i += 1
    return "".join(out)


def _string_end(text: str, start: int, quote: str) -> int:
    """The index after the string opened by `quote` at `start` (basic strings honour `\\`)."""
    i, basic = start + len(quote), quote[0] == '"'
    while i < len(text):
        if basic and text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            end = i + len(quote)
            while len(quote) == 3 and end < len(text) and text[end] == quote[0] and end - i < 5:
                end += 1  # `""""` ends a multi-line string with a quote inside it
            return end
        i += 1
    return len(text)


def _drop_trailing_comma(out: list[str]) -> None:
    """Remove a `,` followed only by blanks at the end of `out` (before a closing brace)."""
    j = len(out) - 1
    while j >= 0 and out[j] in (" ", "\t"):
        j -= 1
    if j >= 0 and out[j] == ",":
        del out[j]
