"""`invoke verify`: does the deployed image run the current code?  Digests, files, then the binary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke import Context, Exit, task

from .. import config, report
from .common import BUILD_HELP, FORMAT_HELP, build_request, cli_errors, no_dry_run, output_format, summarise

if TYPE_CHECKING:  # loaded when the task runs, not for --help
    from ..verify import VerifyResult


LAST_DEPLOY = "the tag of the last deploy of --image and --target"


@task(
    auto_shortflags=False,
    iterable=["build_arg", "cache_from"],
    help={
        **{k: v for k, v in BUILD_HELP.items() if k != "cache_to"},
        "cache": config.flag_help("cache", "build cache short form (registry, gha): its import is read by the cached "
                                  "build; verify never exports"),
        "image": config.flag_help("image", "image repository the deploys went to; none: local builds only"),
        "tag": config.flag_help("tag", "deployed tag to check", default=LAST_DEPLOY),
        "target": config.flag_help("target", "Dockerfile stage to verify"),
        "quick": "no builds: ledger, registry and the deployed binary only (seconds)",
        "push": "push the cached and no-cache builds as TAG-cached and TAG-nocache, like the how-to",
        "no_cache_build": "also run the how-to's --no-cache build, to cross-check the named cause (without it, it runs "
                          "only with --push or when the build's record cannot be read)",
        "allow_dirty": "verify a tree with uncommitted changes (the reference is built from the work tree)",
        "json": "print one JSON object instead of tables (as --format json)",
        "format": FORMAT_HELP,
    },
)
@cli_errors
def verify(c: Context, image: str = "", tag: str = "", platform: str = "", target: str = "", dockerfile: str = "",
           context: str = "", builder: str = "", docker_context: str = "", build_arg: list[str] | None = None, cache: str = "",
           cache_from: list[str] | None = None, quick: bool = False,
           push: bool = False, no_cache_build: bool = False, allow_dirty: bool = False, workspace: str = "",
           json: bool = False, format: str = "table") -> VerifyResult:
    """Does the deployed image run this commit's binary? A reference build decides: exit 0 fresh, 1 stale, 2 inconclusive."""
    shape = output_format(format, json)
    if not quick:
        no_dry_run(c, "verify", "it builds the target to compare binaries",
                   "drop -R, or run `freshbin verify --quick`, which builds nothing")
    from ..verify import exit_code, verify as run_verify  # imported when run: keeps every CLI start light
    from .. import summary
    request = build_request(
        c, workspace=workspace, image=image, tag=tag, platform=platform, target=target, dockerfile=dockerfile,
        context=context, builder=builder, docker_context=docker_context, build_arg=build_arg, cache=cache,
        cache_from=cache_from, allow_dirty=allow_dirty)
    result = run_verify(request, quick=quick, push=push, no_cache_build=no_cache_build)
    for note in result.notes:
        report.log(f"note: {note}")
    if shape == "json":
        report.print_json(result.to_json())
    elif shape == "table":
        print(report.verify_tables(result))
    summarise(summary.verify(result), shape)
    code = exit_code(result)
    if code:
        raise Exit(code=code)
    return result
