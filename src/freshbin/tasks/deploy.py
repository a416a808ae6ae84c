"""`invoke deploy`: build, push, confirm the digest, ledger the deploy, check the binary is fresh."""

from __future__ import annotations

from invoke import Exit, task

from .. import report
from ..errors import EXIT_CHECK_FAILED
from .common import BUILD_HELP, build_request, cli_errors


@task(
    auto_shortflags=False,
    iterable=["build_arg"],
    help={
        **BUILD_HELP,
        "image": "image repository, e.g. 127.0.0.1:5000/acme/api (config freshbin.image)",
        "tag": "image tag (default: the short commit)",
        "target": "Dockerfile stage to ship (default api)",
        "strategy": "guard (default: mtime-proof context, cached deps), no-cache (the how-to's rule), cached or "
                    "no-cache-filter (compile stage uncached)",
        "dry_run": "print the exact build command; build, push and record nothing",
        "allow_dirty": "deploy a tree with uncommitted changes (the revision label then names HEAD)",
        "force": "push over a tag that holds another commit's image (see freshbin.moving_tags)",
        "json": "print one JSON object instead of a table",
    },
)
@cli_errors
def deploy(c, image="", tag="", platform="", target="", dockerfile="", context="", builder="", build_arg=None,
           strategy="", dry_run=False, allow_dirty=False, force=False, workspace="", json=False):
    """Build and push TARGET with buildx, record it in the ledger, fail (exit 1) if the binary is stale."""
    from ..deploy import deploy as run_deploy  # loaded when the task runs: --help stays fast

    result = run_deploy(build_request(
        c, workspace=workspace, image=image, tag=tag, platform=platform, target=target, dockerfile=dockerfile,
        context=context, builder=builder, build_arg=build_arg, strategy=strategy, dry_run=dry_run,
        allow_dirty=allow_dirty, force=force))
    for source in (result.history, result.evidence):
        if (source or {}).get("note"):
            report.log(f"note: {source['note']}")
    for note in result.notes or []:
        report.log(f"note: {note}")
    if json:
        report.print_json(result.to_json())
    else:
        print(report.deploy_table(result))
        print(("STALE — " if result.fresh is False else "") + result.reason)
    if result.fresh is False:
        raise Exit(code=EXIT_CHECK_FAILED)
    return result
