"""deploy's validation and argv construction: pure, no engine needed."""

from pathlib import Path

import pytest

from freshbin import buildx, refs
from freshbin.deploy import DeployRequest, deploy
from freshbin.errors import GitError, UsageError

from ..conftest import write


@pytest.mark.parametrize("image", [
    "127.0.0.1:5000/acme/api", "registry.example.invalid/a/b-c", "localhost/x", "api", "[::1]:5000/acme/api",
])
def test_valid_repositories(image):
    assert refs.validate_repository(image) == image


@pytest.mark.parametrize("image", [
    "", "Acme/API", "acme/api:latest", "acme/api@sha256:" + "0" * 64, "acme//api", "acme/api;rm -rf /",
    "acme/$(touch x)", "acme/api\nx", "acme/ api", "a/" + "b" * 300, "acme/..", "-acme/api",
])
def test_invalid_repositories(image):
    with pytest.raises(UsageError):
        refs.validate_repository(image)


@pytest.mark.parametrize("tag", ["", ".x", "-x", "a" * 129, "a b", "a;b", "$(x)", "a\nb", "A/B", "a..b:c"])
def test_invalid_tags(tag):
    with pytest.raises(UsageError):
        refs.validate_tag(tag)


@pytest.mark.parametrize("tag", ["v1", "abc123def456", "1.2.3-rc_1", "A" * 128])
def test_valid_tags(tag):
    assert refs.validate_tag(tag) == tag


@pytest.mark.parametrize("arg", ["NOEQUALS", "=x", "1X=y", "A B=c", "X=a\nb"])
def test_invalid_build_args(arg):
    with pytest.raises(UsageError):
        refs.validate_build_arg(arg)


def test_build_argv_is_a_list_with_hostile_values_kept_whole():
    spec = buildx.BuildSpec(
        context=Path("/ctx dir"), dockerfile=Path("/ctx dir/Dockerfile"), target="worker", platform="linux/amd64",
        tags=("127.0.0.1:5000/a/b:v1",), metadata_file=Path("/tmp/m.json"), builder="remote",
        build_args={"X": "$(touch /tmp/canary); echo"}, labels={"org.opencontainers.image.revision": "abc"},
        no_cache=True,
    )
    argv = buildx.build_argv(spec)
    assert argv[:5] == ["docker", "buildx", "build", "--builder", "remote"]
    assert "X=$(touch /tmp/canary); echo" in argv and argv[-1] == "/ctx dir"
    assert argv[argv.index("--platform") + 1] == "linux/amd64" and "--no-cache" in argv and "--push" in argv
    assert argv[argv.index("--metadata-file") + 1] == "/tmp/m.json"
    assert argv[argv.index("-f") + 1] == "/ctx dir/Dockerfile"
    on_stdin = buildx.build_argv(spec, dockerfile_on_stdin=True)
    assert on_stdin[on_stdin.index("-f") + 1] == "-" and on_stdin[-1] == "/ctx dir"


def test_a_dockerfile_with_its_own_ignore_file_is_not_read_from_stdin(tmp_path):
    """buildx finds `NAME.dockerignore` only beside a named Dockerfile, so such a build waits for the
    tag check instead of overlapping it (buildx.build_logged)."""
    dockerfile = tmp_path / "Dockerfile.api"
    dockerfile.write_text("FROM scratch\n")
    assert not buildx.own_ignore_file(dockerfile)
    (tmp_path / ".dockerignore").write_text("target\n")  # the context's: read either way
    assert not buildx.own_ignore_file(dockerfile)
    (tmp_path / "Dockerfile.api.dockerignore").write_text("target\n")
    assert buildx.own_ignore_file(dockerfile)


def test_a_docker_context_goes_before_buildx_and_names_are_checked():
    spec = buildx.BuildSpec(context=Path("."), dockerfile=Path("Dockerfile"), target="", platform="linux/arm64",
                            tags=("r/a:t",), metadata_file=Path("m.json"), docker_context="fb-remote.1")
    assert buildx.build_argv(spec)[:5] == ["docker", "--context", "fb-remote.1", "buildx", "build"]
    assert refs.validate_docker_context("") == "" and refs.validate_docker_context("builder_2+x") == "builder_2+x"
    for bad in ("-H", "a b", "x;rm", "ssh://host", "a" * 200, ".hidden"):
        with pytest.raises(UsageError, match="not a Docker context name"):
            refs.validate_docker_context(bad)


def test_dockerfile_stages_from_the_real_parser(tmp_path):
    assert buildx.dockerfile_stages(Path(__file__).parents[2] / "examples/workspace/Dockerfile") == ["builder", "api", "worker"]
    with pytest.raises(UsageError, match="does not exist"):
        buildx.dockerfile_stages(tmp_path / "Dockerfile")


def _request(repo, **kw):
    return DeployRequest(workspace=repo, image=kw.pop("image", "127.0.0.1:5000/acme/worker"), **kw)


def test_deploy_refuses_bad_input_before_touching_the_engine(example_repo):
    with pytest.raises(UsageError, match="--strategy 'fast' is unknown"):
        deploy(_request(example_repo, strategy="fast"))
    with pytest.raises(UsageError, match="no stage 'nope'"):
        deploy(_request(example_repo, target="nope"))
    with pytest.raises(UsageError, match="must not carry a tag"):
        deploy(_request(example_repo, image="127.0.0.1:5000/acme/worker:v1"))
    with pytest.raises(UsageError, match="not a valid tag"):
        deploy(_request(example_repo, tag="bad tag"))
    write(example_repo / "bin/worker/src/main.rs", "fn main() {}\n")
    with pytest.raises(GitError, match=r"uncommitted changes \(bin/worker/src/main.rs\), .*--allow-dirty"):
        deploy(_request(example_repo))
    for name in ("a.txt", "b.txt", "c.txt", "d\nnewline.txt"):
        write(example_repo / name, "new\n")
    with pytest.raises(GitError, match=r"uncommitted changes \((\S+, ){2}\S+ and 2 more\)"):
        deploy(_request(example_repo))


def test_ledger_directory_does_not_make_the_tree_dirty(example_repo):
    from freshbin import checkout

    write(example_repo / ".freshbin/deploys.jsonl", "{}\n")
    root = checkout.open_checkout(example_repo).root
    assert checkout.dirty_paths(root, (".freshbin",)) == []
    assert checkout.dirty_paths(root) == [".freshbin/deploys.jsonl"]


def test_registry_answers_that_are_retried():
    from freshbin.buildx import _transient
    assert _transient("ERROR: failed commit: http status: 500 Internal Server Error")
    assert _transient("#20 ERROR: unexpected status from HEAD request to http://127.0.0.1:5000/v2/x/manifests/t: "
                      "500 Internal Server Error")  # containerd store, measured in CI
    assert _transient("manifest blob unknown: blob unknown to registry")
    assert not _transient("error: could not compile `worker` due to previous error; 500 warnings")
    assert not _transient("401 Unauthorized")
    assert _transient('failed commit on ref "layer-sha256:ab": unexpected status from PUT request to '
                      'http://127.0.0.1:5000/v2/x/blobs/uploads/u: 404 Not Found: {"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}')
    # a digest with "500" in it is not a registry's 500, in the retry rule or the hint
    digest_only = 'failed commit on ref "manifest-sha256:d77a5001": unexpected status: 400 Bad Request'
    assert not _transient(digest_only)
    assert _transient('ERROR: manifest list/index references to blobs and/or manifests are missing in your target '
                      'registry: failed commit on ref "index-sha256:49a3": unexpected status from PUT request to '
                      'http://127.0.0.1:5000/v2/x/manifests/two: 400 Bad Request')
    from freshbin.buildx import _hint
    assert "500" not in _hint(digest_only)
    assert "500" in _hint("ERROR: failed to push: http status: 500")
