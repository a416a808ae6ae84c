"""Local image store or registry: what reading the shipped binary and every file costs each way.

The image must be in the registry and in the image store DOCKER_HOST reaches (pull it first; the
script never pulls or removes anything).  Both ways must agree on the binary and on every file;
the medians are printed.  Measures, never asserts beyond that agreement.

    python benchmarks/registry_read.py REGISTRY/NAME:TAG /usr/local/bin/worker [--runs 5] [--platform linux/amd64]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

from tabulate import tabulate

from freshbin import image, layers, registry_files
from freshbin.shipped import BinaryLocation


def median_seconds(body: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        body()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref")
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--platform", default="linux/amd64")
    opts = parser.parse_args()
    location = BinaryLocation((opts.path,), opts.path.rsplit("/", 1)[-1], "config", "command line")

    def local_binary() -> image.BinaryFacts:
        image.config_of(opts.ref)
        return image.read_binary(opts.ref, location)

    def registry_binary() -> image.BinaryFacts:
        return image.registry_binary(registry_files.open_image(opts.ref, opts.platform), location)

    def registry_listing() -> dict[str, layers.FileEntry]:
        return registry_files.all_files(registry_files.open_image(opts.ref, opts.platform))

    if not image.is_local(opts.ref):
        raise SystemExit(f"{opts.ref} is not in the local image store; pull it first")
    assert local_binary().sha256 == registry_binary().sha256, "the two ways read different binaries"
    assert layers.image_files(opts.ref) == registry_listing(), "the two ways list different files"
    rows = [
        ["shipped binary", median_seconds(local_binary, opts.runs), median_seconds(registry_binary, opts.runs)],
        ["every file", median_seconds(lambda: layers.image_files(opts.ref), opts.runs),
         median_seconds(registry_listing, opts.runs)],
    ]
    print(tabulate(rows, headers=["read", "local store (s)", "registry (s)"], floatfmt=".3f"))


if __name__ == "__main__":
    main()
