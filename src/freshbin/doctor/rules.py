"""The hazard rules.  Each takes the analysed build and returns findings; IDs are stable.

FB001 error    pre-build against dummy sources; the refresh misses packages a shipped binary is built from
FB002 error    pre-build against dummy sources and no refresh at all before the real build
FB003 warning  cache mount over the cargo target dir of the shipped binary without a refresh
FB004 error    .dockerignore excludes build inputs (watched sources, .cargo/config*, rust-toolchain*, build.rs)
FB005 warning  cache mount over the target dir with mode=/uid=/gid=: --no-cache does not reset it (old engines)
FB006 info     dependency pre-build in the same stage as the compile: --no-cache-filter rebuilds every dependency
FB007 error    a final stage copies a binary path the build stage does not produce
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from dataclasses import dataclass

from ..workspace import Workspace
from .model import Finding, Instruction, Stage

RULES = {
    "FB001": "error", "FB002": "error", "FB003": "warning", "FB004": "error",
    "FB005": "warning", "FB006": "info", "FB007": "error",
}
LEGACY_WATCH = ("crates/", "bin/")  # doctor's source roots until it reads them from the Dockerfile
_CARGO_BUILD = re.compile(r"\bcargo\s+(?:\+\S+\s+)?(?:build|install)\b")
_CHEF_COOK = re.compile(r"\bcargo\s+chef\s+cook\b")
_TRIPLE = re.compile(r"--target[= ]([\w.-]+)")
_SPLIT = re.compile(r"&&|\|\||;|\||\n")


@dataclass
class Build:
    """Where the sources arrive and where cargo runs, across the stage chain."""

    stage: Stage
    prebuild: Instruction | None
    prebuild_stage: Stage | None
    source_copy: Instruction | None
    real_build: Instruction | None
    refresh_text: str  # the shell text between the source COPY and the real build, inclusive


def is_source_copy(ins: Instruction, watch: list[str]) -> bool:
    if ins.cmd not in ("COPY", "ADD") or ins.flag("from") or len(ins.args) < 2:
        return False
    roots = {w.strip("/").split("/")[0] for w in watch}
    for src in ins.args[:-1]:
        if src.startswith("<<"):
            continue
        top = posixpath.normpath(src).split("/")[0]
        if src in (".", "./") or top in roots:
            if not posixpath.basename(src) in ("Cargo.toml", "Cargo.lock"):
                return True
    return False


def _chain(stages: list[Stage], stage: Stage) -> list[Stage]:
    """`stage` and the stages it is built FROM, oldest first."""
    by_name = {s.name: s for s in stages}
    chain = [stage]
    while chain[0].base in by_name and by_name[chain[0].base].index < chain[0].index:
        chain.insert(0, by_name[chain[0].base])
    return chain


def analyse(stages: list[Stage], watch: list[str]) -> list[Build]:
    builds = []
    for stage in stages:
        real = next((i for i in reversed(stage.instructions) if i.cmd == "RUN" and _CARGO_BUILD.search(i.text)
                     and not _CHEF_COOK.search(i.text)), None)
        if real is None:
            continue
        flat = [(s, i) for s in _chain(stages, stage) for i in s.instructions]
        pos = next(n for n, (_, i) in enumerate(flat) if i is real)
        copies = [n for n, (_, i) in enumerate(flat[:pos]) if is_source_copy(i, watch)]
        if not copies:
            continue
        last_copy = copies[-1]
        first_copy = copies[0]
        pre = next(((s, i) for s, i in reversed(flat[:first_copy]) if i.cmd == "RUN"
                    and (_CARGO_BUILD.search(i.text) or _CHEF_COOK.search(i.text))), (None, None))
        between = " && ".join(i.text for _, i in flat[last_copy + 1: pos + 1] if i.cmd == "RUN")
        builds.append(Build(stage, pre[1], pre[0], flat[last_copy][1], real, between))
    return builds


def refreshed_paths(shell: str) -> tuple[list[str], list[str]]:
    """(touch patterns, find roots that touch everything below them) in a RUN's shell text."""
    touches, roots = [], []
    for segment in _SPLIT.split(shell):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        if not words:
            continue
        if words[0] == "touch":
            touches += [w for w in words[1:] if not w.startswith("-")]
        elif words[0] == "find" and ("touch" in words or "touch" in shell.split("xargs", 1)[-1]):
            for w in words[1:]:
                if w.startswith("-") or w in ("(", "!"):
                    break
                roots.append(w)
    return touches, roots


def covered(pkg_dir: str, touches: list[str], roots: list[str]) -> bool:
    for root in roots:
        root = posixpath.normpath(root)
        if root in (".", "/") or pkg_dir == root or pkg_dir.startswith(root + "/"):
            return True
    targets = [f"{pkg_dir}/src/main.rs", f"{pkg_dir}/src/lib.rs"]
    return any(_glob_match(t, p) for t in targets for p in touches)


def _glob_match(path: str, pattern: str) -> bool:
    pattern = posixpath.normpath(pattern.lstrip("./")) if pattern not in (".", "./") else "."
    if pattern.count("/") != path.count("/"):
        return False  # shell globs do not cross directories
    return fnmatch.fnmatchcase(path, pattern)


def shipped_binaries(stages: list[Stage], build_stage: Stage) -> list[tuple[Instruction, str]]:
    """(COPY --from instruction, source path) of binaries copied out of the build stage."""
    out = []
    for stage in stages:
        for ins in stage.instructions:
            src_stage = ins.flag("from")
            if ins.cmd == "COPY" and src_stage in (build_stage.name, str(build_stage.index)):
                out += [(ins, s) for s in ins.args[:-1] if "/target/" in s or s.startswith("target/")]
    return out


def required_packages(ws: Workspace, binaries: list[str]) -> list[str]:
    owners = [p.name for p in ws.packages if set(p.binaries) & set(binaries)] or [
        p.name for p in ws.packages if p.binaries]
    needed, frontier = set(owners), list(owners)
    while frontier:
        for dep in ws.package_named(frontier.pop()).deps:
            if dep not in needed:
                needed.add(dep)
                frontier.append(dep)
    return sorted(needed)


def rule_refresh(file: str, build: Build, ws: Workspace, stages: list[Stage], watch: list[str]) -> list[Finding]:
    if build.prebuild is None:
        return []
    chef = bool(_CHEF_COOK.search(build.prebuild.text))
    touches, roots = refreshed_paths(build.refresh_text)
    fix_hint = f"refresh every source before the real build: {fix_command(ws, watch)} && cargo build …"
    if not touches and not roots:
        what = "cargo chef cook" if chef else "a dependency pre-build"
        return [Finding(file, build.real_build.line, "FB002", RULES["FB002"],
                        f"{what} (line {build.prebuild.line}) is followed by a real build with no source refresh: "
                        "copied sources keep checkout mtimes older than the pre-build's artefacts", fix_hint)]
    bins = [posixpath.basename(s) for _, s in shipped_binaries(stages, build.stage)]
    missing = [p for p in required_packages(ws, bins) if not covered(ws.package_named(p).dir, touches, roots)]
    if not missing:
        return []
    dirs = ", ".join(ws.package_named(p).dir for p in missing)
    return [Finding(file, build.real_build.line, "FB001", RULES["FB001"],
                    f"the refresh before the real build misses {dirs}: cargo keeps the pre-build's dummy artefacts "
                    f"for {', '.join(missing)}", fix_hint)]


def fix_command(ws: Workspace, watch: list[str]) -> str:
    roots = sorted({p.dir.split("/")[0] for p in ws.packages if p.dir != "."} | {w.strip("/") for w in watch})
    return f"find {' '.join(roots)} -name '*.rs' -exec touch {{}} +"


def rule_cache_mounts(file: str, build: Build) -> list[Finding]:
    findings = []
    ins = build.real_build
    touches, roots = refreshed_paths(build.refresh_text)
    for flag in ins.flags:
        if not flag.startswith("--mount=") or "type=cache" not in flag:
            continue
        opts = dict(kv.partition("=")[::2] for kv in flag[len("--mount="):].split(","))
        target = opts.get("target") or opts.get("dst") or opts.get("destination") or ""
        if not target.rstrip("/").endswith("target"):
            continue
        if not touches and not roots:
            findings.append(Finding(file, ins.line, "FB003", RULES["FB003"],
                                    f"cache mount over {target} keeps fingerprints newer than sources whose mtime "
                                    "predates the last build; cargo may ship the old binary",
                                    "refresh every source before cargo build, or drop the cache mount for release builds"))
        if any(k in opts for k in ("mode", "uid", "gid")):
            findings.append(Finding(file, ins.line, "FB005", RULES["FB005"],
                                    f"cache mount over {target} with mode/uid/gid: --no-cache does not reset it on older "
                                    "engines", "remove mode=/uid=/gid= from the target-dir cache mount, or give it an id "
                                    "you can rotate"))
    return findings


def rule_same_stage(file: str, build: Build) -> list[Finding]:
    if build.prebuild is None or build.prebuild_stage is not build.stage:
        return []
    return [Finding(file, build.prebuild.line, "FB006", RULES["FB006"],
                    f"the dependency pre-build shares stage {build.stage.name!r} with the compile: "
                    "--no-cache-filter on it rebuilds every dependency",
                    "move the manifests and pre-build into a `deps` stage and start the compile stage `FROM deps`")]


def rule_binary_paths(file: str, build: Build, ws: Workspace, stages: list[Stage]) -> list[Finding]:
    triple = _TRIPLE.search(build.real_build.text)
    names = set(ws.all_binaries())
    findings = []
    for ins, src in shipped_binaries(stages, build.stage):
        parts = src.split("/")
        name, profile_dir = parts[-1], parts[-2] if len(parts) >= 2 else ""
        expected_profile = "release" if "--release" in build.real_build.text or "cargo install" in build.real_build.text else "debug"
        problems = []
        if names and name not in names and "*" not in name:
            problems.append(f"no workspace binary is named {name!r} (binaries: {', '.join(sorted(names))})")
        if triple and f"/{triple.group(1)}/" not in src:
            problems.append(f"the build uses --target {triple.group(1)}, so it lands in target/{triple.group(1)}/…")
        if not triple and len(parts) >= 3 and parts[-3] not in ("target",) and re.match(r"\w+-\w+-\w+", parts[-3]):
            problems.append(f"the build has no --target, so there is no {parts[-3]} directory")
        if profile_dir in ("release", "debug") and profile_dir != expected_profile:
            problems.append(f"the build profile is {expected_profile}, not {profile_dir}")
        if problems:
            findings.append(Finding(file, ins.line, "FB007", RULES["FB007"],
                                    f"{src} is not produced by the build: {'; '.join(problems)}",
                                    "copy the path cargo writes: target/[TRIPLE/]PROFILE/BINARY"))
    return findings
