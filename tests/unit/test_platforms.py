"""Several platforms: parsing --platform, the platform's build arguments, records seen from one
platform, one verdict from several, and the Dockerfile model resolving `FROM worker-${TARGETARCH}`."""

from pathlib import Path

import pytest

from freshbin import platforms, shipped
from freshbin.dockerfile_model import parse
from freshbin.errors import UsageError
from freshbin.verdicts import Check, Side, Verdict, VerifyResult, Cause, merge_platforms

CROSS = Path(__file__).resolve().parents[2] / "examples" / "workspace" / "Dockerfile.cross"


def test_platform_lists_parse_in_order_without_repeats():
    assert platforms.parse("linux/amd64, linux/arm64,linux/amd64") == ("linux/amd64", "linux/arm64")
    assert platforms.parse("") == ("linux/amd64",)
    assert platforms.parse("linux/arm/v7") == ("linux/arm/v7",)


@pytest.mark.parametrize("bad", ["amd64", "linux/amd64;rm -rf /", "linux/amd64,,linux/arm64", "Linux/AMD64"])
def test_a_malformed_platform_is_a_usage_error_naming_it(bad):
    with pytest.raises(UsageError, match="os/arch"):
        platforms.parse(bad)


def test_target_args_are_buildkits_automatic_ones_for_one_platform_only():
    assert platforms.target_args("linux/arm64") == {"TARGETPLATFORM": "linux/arm64", "TARGETOS": "linux",
                                                    "TARGETARCH": "arm64", "TARGETVARIANT": ""}
    assert platforms.target_args("linux/arm/v7")["TARGETVARIANT"] == "v7"
    assert platforms.target_args("linux/amd64,linux/arm64") == {}


def test_each_platform_locates_its_own_triple_path_in_the_cross_example():
    for platform, triple in (("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")):
        found = shipped.locate({}, dockerfile=CROSS, target="worker", binaries=frozenset({"api", "worker"}),
                               build_args=platforms.target_args(platform))
        assert found.candidates[0] == "/usr/local/bin/worker" and found.name == "worker"
        assert f"target/{triple}-unknown-linux-gnu/release/worker" in found.evidence


def test_from_a_stage_named_by_targetarch_resolves_only_with_the_platform():
    df = parse(CROSS, platforms.target_args("linux/arm64"))
    assert df.stage("worker").base == "worker-arm64"
    assert df.needed(df.stage("worker")) == {"worker", "worker-arm64", "runtime", "builder"}
    assert parse(CROSS).stage("worker").base == "worker-${TARGETARCH}"  # unresolved, never guessed


def test_a_record_seen_from_one_platform():
    multi = {"commit": "c", "platform": "linux/amd64,linux/arm64", "binary": {"sha256": "a"},
             "platforms": {"linux/amd64": {"sha256": "a"}, "linux/arm64": {"sha256": "b"}}}
    assert platforms.for_platform(multi, "linux/arm64")["binary"] == {"sha256": "b"}
    assert platforms.for_platform(multi, "linux/riscv64")["binary"] is None
    single = {"commit": "c", "platform": "linux/amd64", "binary": {"sha256": "a"}}
    assert platforms.for_platform(single, "linux/amd64") is single
    assert platforms.for_platform(single, "linux/arm64")["binary"] is None
    assert platforms.for_platform({"commit": "c", "binary": {"sha256": "a"}}, "linux/amd64")["binary"] == {"sha256": "a"}


def _result(verdict: Verdict, cause: Cause | None = None) -> VerifyResult:
    side = Side("reference", binary_sha256="x")
    return VerifyResult(verdict, cause, "c" * 40, "worker", False, [Check("binary cached == reference", "x", "x", True)],
                        {"reference": side}, [], ["a note"])


def test_one_stale_platform_makes_the_whole_stale_and_is_named():
    merged = merge_platforms({"linux/amd64": _result(Verdict.FRESH), "linux/arm64": _result(Verdict.STALE, Cause.MTIME)})
    assert merged.verdict is Verdict.STALE and merged.cause is Cause.MTIME
    assert [c.name for c in merged.checks] == ["linux/amd64: binary cached == reference",
                                               "linux/arm64: binary cached == reference"]
    assert "stale on linux/arm64" in merged.notes
    data = merged.to_json()
    assert data["platforms"]["linux/amd64"]["verdict"] == "fresh" and data["verdict"] == "stale"
    fresh = merge_platforms({"linux/amd64": _result(Verdict.FRESH), "linux/arm64": _result(Verdict.FRESH)})
    assert fresh.verdict is Verdict.FRESH and fresh.cause is None
