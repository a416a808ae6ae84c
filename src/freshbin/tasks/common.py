"""What every task shares: the error edge and config lookups."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from invoke import Exit

from .. import config
from ..errors import EXIT_INTERRUPTED, FreshbinError


def cli_errors(body):
    """Turn FreshbinError into `Exit(message, code)` and Ctrl-C into exit 130: no tracebacks.

    Set FRESHBIN_DEBUG=1 to see the traceback of a FreshbinError.
    """

    @functools.wraps(body)
    def wrapper(*args, **kwargs):
        try:
            return body(*args, **kwargs)
        except FreshbinError as exc:
            if os.environ.get("FRESHBIN_DEBUG"):
                raise
            raise Exit(f"freshbin: error: {exc}", code=exc.exit_code) from None
        except BrokenPipeError:
            # `freshbin … | head`: the reader left; say nothing more.
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            raise Exit(code=0) from None
        except KeyboardInterrupt:
            raise Exit("freshbin: interrupted", code=EXIT_INTERRUPTED) from None

    return wrapper


def pick(value, c, key: str):
    """Flag beats config beats default (an empty/None flag means "not given")."""
    if value not in (None, "", [], {}):
        return value
    return config.settings(c)[key]


def workspace_dir(c, flag: str | None) -> Path:
    return Path(pick(flag, c, "workspace")).resolve()


def ledger_path(c, ws: Path) -> Path:
    path = Path(config.settings(c)["ledger"])
    return path if path.is_absolute() else ws / path
