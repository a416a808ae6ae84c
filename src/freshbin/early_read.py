"""Read the shipped binary while the build is still pushing it.

With the local engine's `docker` driver, buildx writes the image into the local store and names
its id (`#N writing image sha256:… done`) before it pushes the layers; the push takes longer than
reading one file out of the local image (0.1 s against 0.3–0.5 s for the deps workload on
loopback, more to a real registry).  So the read starts on that line, beside the push, and the
deploy takes its answer only when the image id the build's metadata names is the one read.
Anything unexpected (no such line, another id, a failed read) leaves the deploy to read the
binary after the build, as it always could: this module only saves time, it never decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Generic, TypeVar

T = TypeVar("T")

_WRITTEN = re.compile(r"^#\d+ writing image (sha256:[0-9a-f]{64})\b")


class EarlyRead(Generic[T]):
    """A progress-line watcher that starts `read(image_id)` on `pool` once the build wrote the image."""

    def __init__(self, read: Callable[[str], T], pool: Executor):
        self._read, self._pool = read, pool
        self._image_id = ""
        self._future: Future[T] | None = None

    def on_line(self, line: str) -> None:
        if self._future is None:
            found = _WRITTEN.match(line)
            if found:
                self._image_id = found.group(1)
                self._future = self._pool.submit(self._read, self._image_id)

    def result(self, image_id: str) -> T | None:
        """The early answer when it was read from `image_id` (the metadata's config digest), else None."""
        if self._future is None or self._image_id != image_id:
            return None
        try:
            return self._future.result()
        except Exception:  # noqa: BLE001 — the read after the build reports its own error
            return None
