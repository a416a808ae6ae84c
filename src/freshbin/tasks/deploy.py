"""`invoke deploy`: build, push, confirm the digest, ledger the deploy, check the binary is fresh."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke import Context, Exit, task

from .. import config, report
from ..errors import EXIT_CHECK_FAILED
from .common import BUILD_HELP, FORMAT_HELP, build_request, cli_errors, dry, output_format, summarise

if TYPE_CHECKING:  # loaded when the task runs, not for --help
    from ..deploy import DeployResult


@task(
    auto_shortflags=False,
    iterable=["build_arg", "cache_from", "cache_to"],
    help={
        **BUILD_HELP,
        "image": config.flag_help("image", "image repository, e.g. 127.0.0.1:5000/acme/api"),
        "tag": config.flag_help("tag", "image tag"),
        "target": config.flag_help("target", "Dockerfile stage to ship"),
        "strategy": config.flag_help("strategy", "guard (mtime-proof context, cached deps), no-cache (the how-to's "
                                     "rule), cached or no-cache-filter (compile stage uncached)"),
        "dry_run": "print the exact build command; build, push and record nothing (also `freshbin -R deploy`)",
        "allow_dirty": "deploy a tree with uncommitted changes (the revision label then names HEAD)",
        "force": "push over a tag that holds another commit's image (see freshbin.moving_tags)",
        "json": "print one JSON object instead of a table (as --format json)",
        "format": FORMAT_HELP,
    },
)
@cli_errors
def deploy(c: Context, image: str = "", tag: str = "", platform: str = "", target: str = "", dockerfile: str = "",
           context: str = "", builder: str = "", docker_context: str = "", build_arg: list[str] | None = None, cache: str = "",
           cache_from: list[str] | None = None, cache_to: list[str] | None = None, strategy: str = "",
           dry_run: bool = False, allow_dirty: bool = False, force: bool = False, workspace: str = "",
           json: bool = False, format: str = "table") -> DeployResult:
    """Build and push TARGET with buildx, record it in the ledger, fail (exit 1) if the binary is stale."""
    shape = output_format(format, json)
    from ..deploy import deploy as run_deploy  # loaded when the task runs: --help stays fast
    from .. import summary

    result = run_deploy(build_request(
        c, workspace=workspace, image=image, tag=tag, platform=platform, target=target, dockerfile=dockerfile,
        context=context, builder=builder, docker_context=docker_context, build_arg=build_arg, cache=cache, cache_from=cache_from, cache_to=cache_to,
        strategy=strategy, dry_run=dry_run or dry(c),
        allow_dirty=allow_dirty, force=force))
    for source in (result.history or {}, result.evidence or {}):
        if source.get("note"):
            report.log(f"note: {source['note']}")
    for note in result.notes or []:
        report.log(f"note: {note}")
    if shape == "json":
        report.print_json(result.to_json())
    elif shape == "table":
        print(report.deploy_table(result))
        print(("STALE — " if result.fresh is False else "") + result.reason)
    summarise(summary.deploy(result), shape)
    if result.fresh is False:
        raise Exit(code=EXIT_CHECK_FAILED)
    return result
