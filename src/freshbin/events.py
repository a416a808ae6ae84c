"""freshbin's own progress on long work — which build runs, pushing, judging, recording — as events.

pypa/build's shape: the core emits an `Event` and never writes to the terminal; the tasks install
a renderer (`rendered_by`), which shows them on stderr beside BuildKit's lines.  Without one
(tests, the demo's quiet deploys) nothing is shown.  Like the runner's progress renderer, the
renderer is a context variable of the thread that runs the task: events come from that thread.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator

STEPS = ("build", "push", "built", "judge", "record")


@dataclass(frozen=True)
class Event:
    step: str  # one of STEPS
    detail: str  # what, in words: "stage worker of Dockerfile for 127.0.0.1:5000/acme/worker:abc"


Renderer = Callable[[Event], None]

_RENDERER: ContextVar[Renderer | None] = ContextVar("freshbin_events", default=None)


@contextmanager
def rendered_by(renderer: Renderer | None) -> Iterator[None]:
    """Within this block, events go to `renderer` (None: nowhere)."""
    token = _RENDERER.set(renderer)
    try:
        yield
    finally:
        _RENDERER.reset(token)


def emit(step: str, detail: str) -> None:
    renderer = _RENDERER.get()
    if renderer is not None:
        renderer(Event(step, detail))
