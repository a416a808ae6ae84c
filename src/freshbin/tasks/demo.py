"""`invoke demo`: stale -> diagnosed -> fixed -> fresh, on a throwaway copy of the example."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from invoke import Context, task

from .. import events, refs, report
from .common import cli_errors, no_dry_run

if TYPE_CHECKING:  # the demo (engine, git) loads when the task runs, not for --help
    from ..demo import Step


@task(
    auto_shortflags=False,
    iterable=["build_arg"],
    help={
        "registry": "registry to push the demo image to (default 127.0.0.1:5000, from `freshbin env.up`)",
        "build_arg": "NAME=value, repeatable (default: BUILDER and RUNTIME = the env.up images)",
        "keep": "keep the throwaway workspace and print its path",
        "json": "print one JSON document (the story) instead of headings and tables",
    },
)
@cli_errors
def demo(c: Context, registry: str = "127.0.0.1:5000", build_arg: list[str] | None = None, keep: bool = False,
         json: bool = False) -> dict[str, Any] | None:
    """Show the whole story in about 20 s: how-to deploy, verify stale, doctor, fix, fresh."""
    no_dry_run(c, "demo", "it builds and pushes a throwaway image")
    from ..demo import DEFAULT_BUILD_ARGS, run_demo, story  # imported when run: keeps every CLI start light
    refs.validate_repository(f"{registry}/freshbin-demo/worker")
    build_args = dict(DEFAULT_BUILD_ARGS)
    build_args.update(refs.validate_build_arg(a) for a in (build_arg or []))

    def show(step: Step) -> None:
        if json:
            report.log(f"demo: {step.number}. {step.title}" if step.number else f"demo: {step.title}")
            return
        print(report.paint(f"\n{step.number}. {step.title}" if step.number else f"\n{step.title}", "bold"))
        if step.rows:
            print(report.table(step.rows, ("", ""), wrap=(28, 68)))

    with events.rendered_by(None):  # the demo's deploys and verifies are quiet: its steps tell the story
        steps = run_demo(registry, build_args, show, keep=keep)
    summary = story(steps)
    if json:
        report.print_json(summary)
    else:
        print("\nstale -> fixed -> fresh: the how-to's --no-cache deploy shipped the dummy; verify named the "
              "cause;\ndoctor --fix refreshed every source; the next deploy and verify are fresh.")
    return summary
