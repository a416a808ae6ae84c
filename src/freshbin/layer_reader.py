"""Read only the layers that differ: images are compared by diff ID first.

verify compares every file of its images (layers.py), and used to `docker save` each of them
whole: with an 800 MB runtime base (teams do ship `FROM rust:…`) a fresh verify took 33 s
instead of 2.7 s, although the base layers are identical.  A layer's diff ID is the sha256 of
its uncompressed content, so layers with one diff ID at the same place below every image hold
the same files: the comparison starts above that common base and reads nothing of it.  A
whiteout over the unread base is kept as a DELETED entry, so a deletion still shows as a
difference.

How the remaining layers are read, fastest first:
* the classic overlay2 store names each layer's directory (`docker image inspect`: UpperDir and
  LowerDir, top first); when they are readable (root on the engine's host) the files, whiteouts
  (0/0 character devices) and opaque directories (`trusted.overlay.opaque`) are read in place;
* else `docker save`, whose unshared layers only are parsed (the archive is still written whole).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import engine_api, runner
from .layers import EntryKind, FileEntry, image_files, remove, remove_under

OPAQUE_XATTR = "trusted.overlay.opaque"


@dataclass(frozen=True)
class LocalImage:
    ref: str
    diff_ids: tuple[str, ...]
    layer_dirs: tuple[str, ...]  # overlay2 diff directories, bottom first; empty when not readable


@dataclass(frozen=True)
class ReadStats:
    shared_layers: int  # the common base, not read
    layers_read: int
    bytes_read: int  # content hashed (overlay2) or archive parsed (docker save)
    method: str  # "overlay2", "docker save" or both

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def inspect(ref: str) -> LocalImage:
    """The image's layer diff ids and overlay2 directories: over the engine's socket when the CLI
    would use it (a CLI start per image costs ~10 ms on an idle machine, far more on a busy one)."""
    sock = engine_api.socket_path()
    if sock:
        try:
            data = engine_api.image_inspect(sock, ref)
            if data is not None:
                diff_ids = tuple((data.get("RootFS") or {}).get("Layers") or ())
                return LocalImage(ref, diff_ids, _overlay_dirs(data.get("GraphDriver") or {}, len(diff_ids)))
        except engine_api.EngineAPIError:
            pass  # the CLI below says what is wrong in its own words
    out = runner.run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}} {{json .GraphDriver}}",
                      ref]).stdout
    layers_text, _, driver_text = out.strip().partition(" ")
    diff_ids = tuple(json.loads(layers_text) or ())
    return LocalImage(ref, diff_ids, _overlay_dirs(json.loads(driver_text or "{}") or {}, len(diff_ids)))


def _overlay_dirs(driver: dict[str, Any], count: int) -> tuple[str, ...]:
    data = driver.get("Data") or {}
    if driver.get("Name") != "overlay2" or not data.get("UpperDir"):
        return ()
    dirs = [*reversed([d for d in (data.get("LowerDir") or "").split(":") if d]), data["UpperDir"]]
    if len(dirs) != count or not all(os.access(d, os.R_OK | os.X_OK) for d in dirs):
        return ()
    return tuple(dirs)


def common_base(images: list[LocalImage]) -> int:
    """How many bottom layers every image shares (same diff ID at the same place)."""
    if len(images) < 2:
        return 0
    shared = 0
    for ids in zip(*(i.diff_ids for i in images)):
        if len(set(ids)) != 1:
            break
        shared += 1
    return shared


def read_all(refs: dict[str, str]) -> tuple[dict[str, dict[str, FileEntry]], ReadStats]:
    """Files of each named local image above their common base, and what reading them cost."""
    images = {name: inspect(ref) for name, ref in refs.items()}
    shared = common_base(list(images.values()))
    out: dict[str, dict[str, FileEntry]] = {}
    read, size, methods = 0, 0, set()
    for name, img in images.items():
        if img.layer_dirs:
            files: dict[str, FileEntry] = {}
            for directory in img.layer_dirs[shared:]:
                size += read_overlay_layer(files, Path(directory), mark_deleted=shared > 0)
            methods.add("overlay2")
        else:
            files = image_files(img.ref, skip=shared)
            size += sum(e.size for e in files.values())
            methods.add("docker save")
        read += len(img.diff_ids) - shared
        out[name] = files
    return out, ReadStats(shared, read, size, " + ".join(sorted(methods)) or "none")


def read_overlay_layer(files: dict[str, FileEntry], layer: Path, *, mark_deleted: bool) -> int:
    """Apply one overlay2 diff directory over `files`; returns the bytes hashed."""
    hashed = 0
    for root, dirs, names in os.walk(layer):
        rel = os.path.relpath(root, layer)
        base = "/" if rel == "." else "/" + rel.replace(os.sep, "/")
        for d in list(dirs):
            path = os.path.join(root, d)
            target = _join(base, d)
            if os.path.islink(path):
                dirs.remove(d)
                names.append(d)
            elif _opaque(path):
                remove_under(files, target, keep_self=True)
        for n in names:
            path, target = os.path.join(root, n), _join(base, n)
            st = os.lstat(path)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:  # overlay's whiteout
                remove(files, target, mark_deleted)
                continue
            remove_under(files, target)
            if stat.S_ISLNK(st.st_mode):
                link = os.readlink(path)
                files[target] = FileEntry(target, EntryKind.SYMLINK, len(link), hashlib.sha256(link.encode()).hexdigest())
            elif stat.S_ISREG(st.st_mode):
                files[target] = FileEntry(target, EntryKind.FILE, st.st_size, _sha256_file(path))
                hashed += st.st_size
    return hashed


def _join(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}"


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
