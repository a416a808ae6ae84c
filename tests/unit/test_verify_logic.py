"""verify's pure parts: the verdict table, layer merging with whiteouts, stage selection, argv."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from freshbin import buildx
from freshbin.guard import artefact_stages, cache_options
from freshbin.layers import apply_layer, differing
from freshbin.verify import Check, Side, judge

from ..conftest import EXAMPLE, write

R, D, OLD = "a" * 64, "d" * 64, "0" * 64


def sides(**binaries: str) -> dict[str, Side]:
    return {name: Side(name, binary_sha256=sha) for name, sha in binaries.items()}


@pytest.mark.parametrize("subject, nocache, expected", [
    (R, R, ("fresh", None)),
    (OLD, R, ("stale", "build cache")),
    (D, D, ("stale", "cargo mtime freshness")),
    (OLD, D, ("stale", "cargo mtime freshness")),
])
def test_verdict_from_the_three_binaries(subject, nocache, expected):
    assert judge([], sides(cached=subject, nocache=nocache, reference=R), quick=False) == expected


def test_deployed_image_is_the_subject_when_present():
    s = sides(cached=R, nocache=R, reference=R, deployed=OLD)
    assert judge([], s, quick=False) == ("stale", "build cache")


def test_decisive_failed_checks_name_the_cause_first():
    moved = Check("registry tag", "sha256:1", "sha256:2", False)
    assert judge([moved], sides(cached=R, nocache=R, reference=R), quick=False) == ("stale", "tag moved")
    info = Check("change propagation", "x", "y", False, decisive=False)
    assert judge([info], sides(cached=R, nocache=R, reference=R), quick=False) == ("fresh", None)


def test_quick_mode_is_fresh_only_on_a_deploy_freshbin_vouched_for():
    assert judge([], {}, quick=True) == ("inconclusive", None)
    assert judge([Check("registry tag", "a", "a", True)], {}, quick=True) == ("inconclusive", None)
    vouched = Check("deploy record", "a deploy freshbin vouched for", "vouched", True)
    assert judge([Check("registry tag", "a", "a", True), vouched], {}, quick=True) == ("fresh", None)
    unknown = Check("deploy record", "a deploy freshbin vouched for", "not vouched", None)
    assert judge([Check("registry tag", "a", "a", True), unknown], {}, quick=True) == ("inconclusive", None)
    stale = Check("deploy record", "a deploy freshbin vouched for", "stale", False)
    assert judge([stale], {}, quick=True) == ("stale", "stale when deployed")
    assert judge([Check("change propagation", "a", "b", False)], {}, quick=True)[0] == "stale"


def layer(*members: tuple[str, bytes | None]) -> tarfile.TarFile:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return tarfile.open(fileobj=buf, mode="r|*")


def test_layers_merge_in_order_with_whiteouts_and_opaque_dirs():
    files: dict = {}
    apply_layer(files, layer(("usr/", None), ("usr/bin/app", b"v1"), ("etc/a", b"a"), ("etc/b", b"b"),
                             ("./.hidden", b"h")))
    apply_layer(files, layer(("usr/bin/app", b"v2"), ("etc/.wh.a", b""), ("opt/x", b"x")))
    apply_layer(files, layer(("opt/.wh..wh..opq", b""), ("opt/y", b"y")))
    assert sorted(files) == ["/.hidden", "/etc/b", "/opt/y", "/usr/bin/app"]
    assert files["/usr/bin/app"].size == 2


def test_differing_lists_only_content_differences():
    one, two = {}, {}
    apply_layer(one, layer(("bin/app", b"new"), ("etc/os", b"same")))
    apply_layer(two, layer(("bin/app", b"old"), ("etc/os", b"same"), ("extra", b"e")))
    rows = differing({"cached": one, "reference": two})
    assert [r["path"] for r in rows] == ["/bin/app", "/extra"]
    assert rows[1]["cached"] is None and rows[1]["reference"]["size"] == 1


def test_artefact_stages_are_the_targets_cargo_free_inputs(tmp_path):
    assert artefact_stages(EXAMPLE / "Dockerfile", "worker") == ("worker",)
    assert artefact_stages(EXAMPLE / "Dockerfile", "builder") == ()
    chain = write(tmp_path / "Dockerfile", "FROM rust AS deps\nRUN cargo build\nFROM deps AS build\n"
                  "RUN cargo build --release\nFROM scratch AS strip\nCOPY --from=build /a /a\n"
                  "FROM debian AS app\nCOPY --from=strip /a /usr/bin/a\nFROM debian AS unrelated\n")
    assert sorted(artefact_stages(chain, "app")) == ["app", "strip"]
    assert cache_options(True, chain, "app")[:2] == (artefact_stages(chain, "app"), False)
    assert cache_options(False, chain, "app")[:2] == ((), True)  # no filter: correct but slow
    assert cache_options(True, chain, "deps") == ((), False, "no artefact-only stage to rebuild")


def spec(**kw) -> buildx.BuildSpec:
    base = dict(context=Path("ctx"), dockerfile=Path("ctx/Dockerfile"), target="api", platform="linux/amd64",
                tags=("r:t",), metadata_file=Path("m.json"))
    return buildx.BuildSpec(**{**base, **kw})


def test_build_argv_load_epoch_and_rewrite():
    loaded = buildx.build_argv(spec(push=False, load=True, source_date_epoch=1700000000))
    assert "--load" in loaded and "--push" not in loaded and "SOURCE_DATE_EPOCH=1700000000" in loaded
    pushed = buildx.build_argv(spec(rewrite_timestamp=True))
    assert pushed[pushed.index("--output") + 1] == "type=image,push=true,rewrite-timestamp=true"
    assert "--push" not in pushed


def test_build_argv_oci_output_with_rewrite_timestamp():
    argv = buildx.build_argv(spec(output="type=oci,dest=/t/x.tar", rewrite_timestamp=True, source_date_epoch=5))
    assert argv[argv.index("--output") + 1] == "type=oci,dest=/t/x.tar,rewrite-timestamp=true"
    assert "SOURCE_DATE_EPOCH=5" in argv and "--push" not in argv and "--load" not in argv
