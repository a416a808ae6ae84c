"""What the Dockerfile does to cargo's view of the sources, instruction by instruction.

The walk follows every stage (a stage built FROM another continues its state; a stage that
copies a target dir out of another imports that stage's artefacts) and records the *dummies*
(source files a RUN, `cargo new` or a stand-in COPY created where no real source was), the cargo
call that compiled each (keyed by target dir, its storage — layer or cache mount —, triple and
profile: another key shares nothing), the real-source COPYs or bind mounts over them, and the
refreshes after those: `touch`, `find … touch`, `rm` of artefacts in cargo's own names, `cargo
clean`.  `cargo chef cook` leaves no dummy: it masks local crate versions and removes its
compiled dummies itself.  A *hazard* is a compiling call that meets dummy artefacts of its own
key whose sources were overwritten and not refreshed: cargo keeps the dummy (or, when a cached
compile is reused, the previous release).
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field

from . import configs, steps
from ..dockerfile_cargo import CargoCall, cargo_call, cargo_words
from ..dockerfile_model import Copy, Instruction, Stage, copy_of, mounts
from .names import new_unit, unit_names
from .project import Project
from .selection import compiles, package_of
from .state import Dummy, State

__all__ = ["Analysis", "Dummy", "Hazard", "RealBuild", "State", "analyse"]


@dataclass(frozen=True)
class Hazard:
    build: CargoCall
    stage: Stage
    prebuild: CargoCall
    stale: tuple[Dummy, ...]
    attempts: tuple[str, ...]  # refresh steps seen after the source copy (none: FB002)
    misses: tuple[str, ...]  # why an `rm` of artefacts removed nothing of a dummy


@dataclass(frozen=True)
class RealBuild:
    call: CargoCall
    stage: Stage
    refreshed: bool  # a touch/find/rm/clean ran since the last source copy


@dataclass
class Analysis:
    hazards: list[Hazard] = field(default_factory=list)
    real_builds: list[RealBuild] = field(default_factory=list)
    calls: list[CargoCall] = field(default_factory=list)
    prebuilds: list[CargoCall] = field(default_factory=list)  # calls that compiled dummy sources


def analyse(project: Project) -> Analysis:
    result = Analysis()
    finals: dict[int, State] = {}
    df = project.dockerfile
    for stage in df.stages:
        parent = df.stage(stage.base)
        state = finals[parent.index].clone() if parent and parent.index in finals else State()
        for ins in stage.instructions:
            if ins.cmd in ("COPY", "ADD"):
                _copy(project, state, ins, finals)
            elif ins.cmd == "RUN":
                _run(project, state, stage, ins, result)
        finals[stage.index] = state
    return result


def _copy(project: Project, state: State, ins: Instruction, finals: dict[int, State]) -> None:
    copy = copy_of(ins)
    if copy is None:
        return
    if copy.from_stage is not None:
        source = project.dockerfile.stage(copy.from_stage)
        if source is not None and source.index in finals:
            _import_artefacts(state, finals[source.index], copy)
        return
    for src in copy.sources:
        if copy.heredoc or _stand_in(src, copy):
            target = copy.target_of(src, False)
            if target.endswith(".rs"):  # a placeholder source file; other heredocs are not sources
                state.dummies[target] = Dummy(target, ins, package_of(target))
            continue
        rel = posixpath.normpath(src.lstrip("/") or ".")  # context paths: `/src` is the context's src
        for match, target, is_dir in _sources(project, state, copy, rel):
            _bring(project, state, copy, match, target, is_dir)


def _sources(project: Project, state: State, copy: Copy, rel: str) -> list[tuple[str, str, bool]]:
    """(context path, image path, is dir) of each thing a COPY source brings.  A glob (`src/*`) is
    expanded against the context, as BuildKit does: a matched directory's contents go into the
    destination, a matched file into it when several match, the destination ends with `/`, or it
    is a directory already (a dummy lives under it) — else the file becomes the destination."""
    matches = project.glob(rel)
    if not matches:
        is_dir = project.is_dir(rel)
        return [(rel, copy.target_of(rel, is_dir), is_dir)]
    dest = copy.dest.rstrip("/") or "/"
    into = (copy.dest.endswith("/") or len(matches) > 1 or len(copy.sources) > 1
            or any(path.startswith(dest.rstrip("/") + "/") for path in state.dummies))
    out = []
    for match in matches:
        is_dir = project.is_dir(match)
        target = dest if is_dir or not into else posixpath.join(dest, posixpath.basename(match))
        out.append((match, target, is_dir))
    return out


def _bring(project: Project, state: State, copy: Copy, src: str, target: str, is_dir: bool) -> None:
    """Real sources from the context arrive at `target` (a COPY, or a bind mount for one RUN)."""
    state.real.append((target, posixpath.normpath(src), is_dir))
    configs.bring(project, state, posixpath.normpath(src), target, is_dir)
    overwrote = [d for d in state.dummies.values() if _overwrites(project, d.path, src, target, is_dir)]
    for dummy in overwrote:
        dummy.overwritten, dummy.copied_to = copy, target if is_dir else ""
        dummy.refreshed = new_unit(project, state, dummy)
    if overwrote or posixpath.basename(src) not in ("Cargo.toml", "Cargo.lock"):
        state.copied_sources = True
        state.attempts = [a for a in state.attempts if not a.startswith(("touch ", "find "))]  # rm acts on artefacts
        state.touched_sources = False


def _stand_in(src: str, copy: Copy) -> bool:
    """`COPY dummy.rs src/main.rs`: a file copied in under another name is a placeholder."""
    dest = copy.dest.rstrip("/")
    return (src.endswith(".rs") and not any(ch in src for ch in "*?[") and not copy.dest.endswith("/")
            and len(copy.sources) == 1 and dest.endswith(".rs")
            and posixpath.basename(src) != posixpath.basename(dest))


def _overwrites(project: Project, dummy: str, src: str, target: str, is_dir: bool) -> bool:
    if not is_dir:
        return dummy == target or fnmatch.fnmatchcase(target, dummy)
    if not dummy.startswith(target.rstrip("/") + "/") and target != "/":
        return False
    rel = posixpath.join(src, dummy[len(target.rstrip("/")) + 1:])
    there = project.exists(posixpath.normpath(rel))
    if there is False and project.exists(posixpath.normpath(src)):
        return False  # the context has the directory but not this file: the dummy stays a dummy
    return True


def _import_artefacts(state: State, source: State, copy: Copy) -> None:
    """`COPY --from=cook /app/target target`: that stage's compiled dummies come along."""
    for path, dummy in source.dummies.items():
        keys = {k for k in dummy.compiled if any(k[0] == s or k[0].startswith(s.rstrip("/") + "/")
                                                  for s in (posixpath.normpath(x) for x in copy.sources))}
        if not keys:
            continue
        moved = {(copy.target_of(k[0], True), "layer", k[2], k[3]) for k in keys}
        mine = state.dummies.setdefault(path, Dummy(path, dummy.created, dummy.package_dir))
        mine.compiled |= moved
        mine.prebuild = dummy.prebuild


def _run(project: Project, state: State, stage: Stage, ins: Instruction, result: Analysis) -> None:
    position = 0
    for mount in mounts(ins):
        source = mount.options.get("source") or mount.options.get("src") or "."
        if mount.type == "bind" and "from" not in mount.options:
            copy = Copy(ins, (source,), mount.target, None, False)
            _bring(project, state, copy, source, mount.target, project.is_dir(source))
    for command in ins.commands():
        name = posixpath.basename(command.name)
        configs.write(state, command)
        for path in command.writes:
            steps.touch_or_create(state, ins, steps.glob(path))
        if name == "touch":
            for word in command.words[1:]:
                if not word.startswith("-"):
                    steps.touch_or_create(state, ins, steps.glob(command.path(word)))
        elif name == "find" and steps.find_touches(command, ins):
            steps.find(state, command)
        elif name == "rm" or (cargo_words(command.words) or ())[:1] == ("clean",):
            steps.remove(project, state, command, ins)
        elif (cargo_words(command.words) or ())[:1] in (("new",), ("init",)):
            steps.cargo_new(state, ins, command)
        call = cargo_call(ins, position, command, configs.in_effect(state, command))
        if call is not None:
            position += 1
            _compile(project, state, stage, call, result)


def _compile(project: Project, state: State, stage: Stage, call: CargoCall, result: Analysis) -> None:
    result.calls.append(call)
    if call.chef:
        return
    stale = [d for d in state.dummies.values()
             if call.key in d.compiled and d.overwritten and not d.refreshed and not d.reported]
    if state.copied_sources:
        result.real_builds.append(RealBuild(call, stage, bool(state.attempts) or state.touched_sources))
    if stale:
        for dummy in stale:
            units = unit_names(project, state, dummy)
            dummy.reported, dummy.package, dummy.kind, dummy.crate = True, units.package, units.kind, units.crate
        prebuild = next((d.prebuild for d in stale if d.prebuild), call)
        result.hazards.append(Hazard(call, stage, prebuild, tuple(stale), tuple(state.attempts), tuple(state.misses)))
    if any(not dummy.overwritten for dummy in state.dummies.values()):
        result.prebuilds.append(call)
    for dummy in state.dummies.values():
        if not dummy.overwritten and compiles(project, state, dummy, call):
            dummy.compiled.add(call.key)
            dummy.prebuild = call
        elif dummy.refreshed or call.key not in dummy.compiled:
            dummy.compiled.discard(call.key)
