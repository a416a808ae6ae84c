"""Build caches imported and exported with buildx's own `--cache-from` / `--cache-to`.

A CI runner is new each time: its builder is empty and the only cache it has is one it imports
(a registry, GitHub Actions' cache service, a directory restored by the CI).  freshbin passes
buildx's own cache specs through unchanged (`type=registry,ref=…,mode=max`, `type=gha`,
`type=local,src=…`, or a bare image reference as a registry cache), and offers one short form
for the common case, `--cache registry`: a registry cache beside the image
(`IMAGE:buildcache`), read and written, with `mode=max` so the dependency stage's layers are
exported too (without it only the shipped stage's layers are, and a fresh runner rebuilds the
dependencies).

Which builds use them (docs/ci.md):
  deploy   reads every --cache-from and writes every --cache-to (with guard the compile step
           carries a nonce, so an imported compile layer is never what ships).
  verify   its cached build — the one that reproduces the deploy's — reads the --cache-from, so
           on a fresh runner it sees what the deploy saw; so does the reference (guard's build:
           its compile step runs whatever the cache holds, as a deploy's does); the --no-cache
           builds read nothing.  No verify build writes a cache: verify never changes what the
           next deploy starts from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UsageError

SHORT_FORMS = ("registry", "gha")
CACHE_TAG = "buildcache"  # the tag docker's own documentation uses for a registry cache beside an image
_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class CacheOptions:
    """The cache specs a build passes to buildx: imported (`cache_from`) and exported (`cache_to`)."""

    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()

    def importing(self) -> CacheOptions:
        """The same imports and no export (verify's cached build)."""
        return CacheOptions(self.cache_from, ())


def resolve(short: str, cache_from: list[str] | tuple[str, ...], cache_to: list[str] | tuple[str, ...],
            image: str) -> CacheOptions:
    """The specs from the short form (`registry`, `gha`) and the explicit ones, checked."""
    imports = [validate(spec, "--cache-from") for spec in cache_from]
    exports = [validate(spec, "--cache-to") for spec in cache_to]
    if short:
        extra_from, extra_to = expand(short, image)
        imports += [s for s in extra_from if s not in imports]
        exports += [s for s in extra_to if s not in exports]
    return CacheOptions(tuple(imports), tuple(exports))


def expand(short: str, image: str) -> tuple[list[str], list[str]]:
    """`registry` → a registry cache at IMAGE:buildcache both ways; `gha` → GitHub Actions' cache
    service both ways (buildx reads its token from the runner's environment)."""
    if short == "registry":
        if not image:
            raise UsageError("--cache registry keeps the cache beside the image; pass --image (or freshbin.image)")
        ref = f"{image}:{CACHE_TAG}"
        return [f"type=registry,ref={ref}"], [f"type=registry,ref={ref},mode=max"]
    if short == "gha":
        return ["type=gha"], ["type=gha,mode=max"]
    raise UsageError(f"--cache {short!r} is not a short form; use one of {', '.join(SHORT_FORMS)}, "
                     "or pass buildx's own specs with --cache-from/--cache-to")


def validate(spec: str, flag: str) -> str:
    """A buildx cache spec: `key=value` pairs with a `type`, or a bare image reference (buildx reads
    it as a registry cache).  Checked so that a typo is one sentence, not a build that runs cold."""
    text = spec.strip()
    if not text or any(ch.isspace() for ch in text):
        raise UsageError(f"{flag} {spec!r} is empty or has spaces; e.g. {flag} type=registry,ref=REGISTRY/IMAGE:buildcache")
    if "=" not in text:
        return text  # a bare reference: buildx's shorthand for type=registry,ref=…
    fields = [part.partition("=") for part in text.split(",")]
    bad = [k for k, sep, v in fields if not sep or not _KEY.match(k)]
    if bad:
        raise UsageError(f"{flag} {spec!r}: {bad[0]!r} is not a key=value pair; e.g. type=registry,ref=…,mode=max")
    if "type" not in {k for k, _, _ in fields}:
        raise UsageError(f"{flag} {spec!r} names no type; add type=registry, type=gha or type=local")
    return text


def argv(options: CacheOptions) -> list[str]:
    """The buildx flags, in the order given."""
    out: list[str] = []
    for spec in options.cache_from:
        out += ["--cache-from", spec]
    for spec in options.cache_to:
        out += ["--cache-to", spec]
    return out


def describe(options: CacheOptions) -> str:
    """The cache in a few words (the build line, the record)."""
    parts = []
    if options.cache_from:
        parts.append("importing " + ", ".join(_short(s) for s in options.cache_from))
    if options.cache_to:
        parts.append("exporting " + ", ".join(_short(s) for s in options.cache_to))
    return "; ".join(parts)


def _short(spec: str) -> str:
    fields = dict(part.partition("=")[::2] for part in spec.split(",")) if "=" in spec else {"ref": spec}
    kind = fields.get("type", "registry")
    where = fields.get("ref") or fields.get("src") or fields.get("dest") or fields.get("scope") or ""
    return f"{kind} {where}".strip()
