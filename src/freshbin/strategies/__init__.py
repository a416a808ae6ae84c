"""The deploy strategies: one table, read by deploy, verify, the benchmarks, config and the docs."""

from __future__ import annotations

from ..errors import UsageError
from . import cached, guard, nocache, nocachefilter
from .base import BuildContext, CachePlan, Situation, Strategy

ALL: dict[str, Strategy] = {s.name: s for s in (guard.STRATEGY, nocache.STRATEGY, cached.STRATEGY,
                                                nocachefilter.STRATEGY)}
DEFAULT = "guard"

__all__ = ["ALL", "DEFAULT", "BuildContext", "CachePlan", "Situation", "Strategy", "get", "names"]


def names() -> tuple[str, ...]:
    return tuple(ALL)


def get(name: str) -> Strategy:
    try:
        return ALL[name]
    except KeyError:
        raise UsageError(f"--strategy {name!r} is unknown; use one of {', '.join(ALL)}") from None
