"""FB007: a stage copies a binary path out of a build stage that no cargo call there produces."""

from __future__ import annotations

from ...dockerfile_cargo import ShippedBinary, shipped_binaries, stage_calls
from ...dockerfile_model import unresolved
from ..analysis import Analysis
from ..project import Project
from ..rule import Finding, Rule, Severity

_TARGET_SETTING_IMAGES = ("musl", "cross", "zig", "xx", "osxcross", "android")


def problems(project: Project, analysis: Analysis, shipped: ShippedBinary, names: set[str]) -> list[str]:
    """Why cargo does not write `shipped.source` (empty when it does, or when doctor cannot tell).

    The calls that count are the real builds of the stage (after its source COPY): a pre-build
    writing the same path only leaves a dummy there."""
    chain = project.dockerfile.chain(shipped.from_stage)
    calls = [b.call for b in analysis.real_builds if b.stage in chain] or [
        c for c in stage_calls(project.dockerfile, shipped.from_stage, project.cargo_config) if not c.chef]
    produced = any(c.out_dir == shipped.source.rsplit("/", 1)[0] for c in calls)
    if not calls or any(not c.resolved for c in calls) or unresolved(shipped.source):
        return []
    found = []
    if names and "*" not in shipped.name and shipped.name not in names and not any(shipped.name in c.bins for c in calls):
        found.append(f"no package builds a binary named {shipped.name!r} (binaries: {', '.join(sorted(names)[:6])})")
    same_dir = [c for c in calls if c.target_dir == shipped.target_dir]
    if same_dir and not produced:
        triples = {c.triple for c in same_dir}
        profiles = {c.profile for c in same_dir}
        # a computed triple (`--target "$(cat /triple)"`, read as `*`: TARGETARCH mapped in the build) may be any
        if shipped.triple not in triples and not any("*" in t for t in triples if t) and (
                None not in triples or _no_triple_anywhere(project, shipped, triples)):
            built = ", ".join(sorted(f"--target {t}" if t else "no --target" for t in triples))
            found.append(f"the build runs with {built}, so cargo writes "
                         f"{' or '.join(sorted(f'target/{t}/' if t else 'target/<profile>/' for t in triples))}")
        if shipped.profile not in profiles:
            found.append(f"the build profile is {', '.join(sorted(profiles))}, not {shipped.profile}")
    return found


def _no_triple_anywhere(project: Project, shipped: ShippedBinary, triples: set[str | None]) -> bool:
    """A triple directory is copied, yet no call, `CARGO_BUILD_TARGET` nor `[build] target` sets
    one, and the build image is no cross/musl builder (those set a default target in their own
    cargo config or environment, as `ekidd/rust-musl-builder` does): cargo writes
    `target/<profile>/`, so the COPY fails."""
    if triples != {None} or shipped.triple is None or unresolved(shipped.triple):
        return False
    bases = [s.base.lower() for s in project.dockerfile.chain(shipped.from_stage)]
    return not any(unresolved(b) or any(word in b for word in _TARGET_SETTING_IMAGES) for b in bases)


def check(project: Project, analysis: Analysis) -> list[Finding]:
    names = project.binary_names()
    out = []
    for shipped in shipped_binaries(project.dockerfile, None, project.cargo_config):
        found = problems(project, analysis, shipped, names)
        if found:
            out.append(RULE.finding(project.file, shipped.instruction.line,
                                    f"{shipped.source} is not produced by the build: {'; '.join(found)}",
                                    "copy the path cargo writes: <target dir>/[<triple>/]<profile>/<binary>"))
    return out


RULE = Rule(
    code="FB007", severity=Severity.ERROR,
    title="a stage copies a binary path the build stage does not produce (wrong name, triple directory or profile)",
    explanation="The COPY then fails, or picks up a file an older build left in a cached or mounted target dir.",
    bad="RUN cargo build --release --target x86_64-unknown-linux-musl\n"
        "COPY --from=builder /app/target/release/api /usr/local/bin/api",
    good="RUN cargo build --release --target x86_64-unknown-linux-musl\n"
         "COPY --from=builder /app/target/x86_64-unknown-linux-musl/release/api /usr/local/bin/api",
    check=check,
)
