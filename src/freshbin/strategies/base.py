"""What every deploy strategy provides (pre-commit's `lang_base` shape): how to prepare the build
context, which cache options to build with, and what it guarantees.  The registry in
`strategies/__init__.py` is the one table deploy, verify, the benchmarks, config validation and
the docs read; a new strategy is one module plus one line there.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..buildx import Engine
from ..ignored_inputs import Dropped
from ..pipeline import BuildRequest, Prepared

if TYPE_CHECKING:  # detect (and GitPython under it) loads beside the build, not before it
    from ..detect import Detection


@dataclass(frozen=True)
class Situation:
    """What a strategy decides from: the checked inputs, the engine and (for a deploy) detect's answer."""

    request: BuildRequest
    prepared: Prepared
    engine: Engine
    detection: Detection | None = None  # None: not a deploy (verify's reference build)


@dataclass(frozen=True)
class CachePlan:
    no_cache: bool = False
    no_cache_filter: tuple[str, ...] = ()
    note: str | None = None  # what the strategy did to the build, for the JSON and the table


@dataclass(frozen=True)
class BuildContext:
    path: Path  # the build context directory handed to buildx
    dockerfile: Path  # the Dockerfile inside (or beside) it
    note: str | None = None
    proof: bool = False  # the compile step prints its proof (compile_proof.py)
    whole: bool = False  # every cargo input of the commit reaches the build (what the ignore file drops, re-included)
    ignore_path: Path | None = None  # the ignore file whose drops of cargo inputs were re-included
    dropped: tuple[Dropped, ...] = ()


class Strategy(Protocol):
    name: str
    summary: str  # one line: --help, config validation, docs
    guarantees: str  # what a deploy with it guarantees (docs/deploy.md is checked against it)
    # Does cache_plan read detect's answer?  If not, deploy starts the build at once and runs the
    # history read and detect beside it (they matter only for judging the pushed binary).
    needs_detection: bool

    def cache_plan(self, situation: Situation) -> CachePlan: ...

    def context(self, situation: Situation, stack: ExitStack, *, dry_run: bool) -> BuildContext: ...


def working_tree_context(situation: Situation) -> BuildContext:
    """The checkout as it is: the context every strategy but guard builds from."""
    p, req = situation.prepared, situation.request
    return BuildContext(p.workspace / req.context, p.dockerfile)
