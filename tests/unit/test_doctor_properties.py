"""Property-based inputs: generated Dockerfiles never crash doctor or `--fix`.

Stages with and without names, FROM other stages, ARGs with and without defaults, WORKDIR,
COPY/ADD (incl. --from and heredocs), RUN mixes of dummy creation, pre-builds, refreshes,
`rm`, `cd`, cache and bind mounts, continuations and heredoc scripts.  doctor may only answer
with findings and notes, or a UsageError for an unparsable file; `--fix` must be idempotent
and leave no FB001/FB002 behind.
"""

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from freshbin.doctor import check, fix
from freshbin.errors import FreshbinError

WORDS = st.sampled_from(["src", "crates", "bin", "app", "crates/a", "bin/api", ".", "./", "$APP", "${DIR:-src}",
                         "target", "/app/target", "*", "src/*.rs", "a b", "'q'", "\"d\""])
FILES = st.sampled_from(["src/main.rs", "src/lib.rs", "build.rs", "crates/a/src/lib.rs", "bin/api/src/main.rs",
                         "$D/src/lib.rs", "dummy.rs"])
CARGO = st.sampled_from(["cargo build --release", "cargo build", "cargo b -r --target x86_64-unknown-linux-musl",
                         "cargo chef cook --release --recipe-path recipe.json", "cargo install --path .",
                         "cargo build --release --bin api -p api", "cargo build --target-dir /out",
                         "CARGO_TARGET_DIR=/t cargo build --release", "cargo +nightly build --profile dist"])


@st.composite
def segment(draw) -> str:
    kind = draw(st.integers(0, 8))
    if kind == 0:
        return draw(CARGO)
    if kind == 1:
        return f"echo 'fn main() {{}}' > {draw(FILES)}"
    if kind == 2:
        return f"touch {draw(FILES)} {draw(FILES)}"
    if kind == 3:
        return f"find {draw(WORDS)} -name '*.rs' -exec touch {{}} +"
    if kind == 4:
        return f"rm -rf {draw(st.sampled_from(['target/release/deps/app*', 'target', 'src/*.rs', 'target/release/.fingerprint/a-*']))}"
    if kind == 5:
        return f"cd {draw(WORDS)}"
    if kind == 6:
        return f"mkdir -p {draw(WORDS)}/src"
    if kind == 7:
        return f"cargo new {draw(st.sampled_from(['--lib ', '']))}{draw(WORDS)}"
    return draw(st.text(alphabet="abc$&|;'\"\\ (){}<>", max_size=12))


@st.composite
def instruction(draw, stages: list[str]) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        joiner = draw(st.sampled_from([" && ", " ; ", " \\\n && ", " | "]))
        mount = draw(st.sampled_from(["", "--mount=type=cache,target=/app/target ", "--mount=type=bind,source=src,target=src ",
                                      "--mount=type=cache,target=target,uid=1000 "]))
        return f"RUN {mount}" + joiner.join(draw(st.lists(segment(), min_size=1, max_size=4)))
    if kind == 1:
        return "RUN <<EOF\n" + "\n".join(draw(st.lists(segment(), min_size=1, max_size=3))) + "\nEOF"
    if kind == 2:
        return f"COPY {draw(WORDS)} {draw(WORDS)}"
    if kind == 3 and stages:
        return f"COPY --from={draw(st.sampled_from(stages))} /app/target/release/{draw(WORDS)} /usr/local/bin/"
    if kind == 4:
        return f"ARG {draw(st.sampled_from(['APP', 'DIR', 'D']))}{draw(st.sampled_from(['', '=api', '=src']))}"
    if kind == 5:
        return f"WORKDIR {draw(WORDS)}"
    if kind == 6:
        return f"COPY <<EOF {draw(FILES)}\nfn main() {{}}\nEOF"
    return f"ADD {draw(WORDS)} {draw(WORDS)}"


@st.composite
def dockerfile(draw) -> str:
    lines, stages = [], []
    if draw(st.booleans()):
        lines.append("ARG APP=api")
    for index in range(draw(st.integers(1, 4))):
        base = draw(st.sampled_from(stages + ["rust", "${BASE}", "debian"] if stages else ["rust", "${BASE}"]))
        name = draw(st.sampled_from([f"s{index}", ""]))
        lines.append(f"FROM {base}" + (f" AS {name}" if name else ""))
        lines += [draw(instruction(list(stages))) for _ in range(draw(st.integers(0, 7)))]
        stages.append(name or str(index))
    return "\n".join(lines) + "\n"


def _workspace(root: Path) -> None:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "Cargo.toml").write_text('[package]\nname = "app"\nversion = "0.1.0"\n')
    (root / "src" / "main.rs").write_text("fn main() {}\n")


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=dockerfile())
def test_generated_dockerfiles_never_crash_doctor_or_fix(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("ws")
    _workspace(root)
    path = root / "Dockerfile"
    path.write_text(text)
    try:
        check(path, root, root)
        new, diff = fix(path, root, root)
    except FreshbinError:
        return  # an unparsable file: exit 2 with one sentence, which is allowed
    path.write_text(new)
    assert fix(path, root, root) == (new, ""), f"--fix is not idempotent on:\n{text}"
    assert not {f.rule for f in check(path, root, root)} & {"FB001", "FB002"}, f"--fix left a hazard in:\n{text}\n{new}"
