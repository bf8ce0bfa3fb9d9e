"""``ecomarket loadtest``: options in, a report out (a table, or one JSON object)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sys
from pathlib import Path

from rich.console import Console

from ecomarket.cluster.layout import RunDir, read_tokens
from ecomarket.loadtest.report import render
from ecomarket.loadtest.runner import LoadPlan, run


def run_loadtest(
    url: str,
    duration: float,
    concurrency: int,
    mix: str,
    kill: str | None,
    at: float | None,
    run_dir: Path,
    as_json: bool,
) -> None:
    """Run the load test and print its report; exit status 1 when anything failed."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s loadtest: %(message)s")
    console = Console(highlight=False)
    tokens = read_tokens(RunDir(run_dir))
    drill = None
    if kill is not None:
        from ecomarket.cluster import control
        from ecomarket.cluster.launcher import ClusterError

        # Refuse a drill that cannot happen before the load starts, not halfway through.
        try:
            _, state, _ = control.connect(run_dir)
        except ClusterError as error:
            console.print(f"[red]error:[/red] --kill: {error}")
            sys.exit(2)
        if kill not in state.programs:
            console.print(f"[red]error:[/red] --kill: no process {kill!r} in {run_dir}")
            sys.exit(2)
        drill = functools.partial(control.kill, run_dir, kill)
    plan = LoadPlan(
        url=url.rstrip("/"),
        duration=duration,
        concurrency=concurrency,
        mix=mix,
        admin_token=tokens.admin if tokens else "",
        branch_tokens=tokens.branches if tokens else None,
        kill=drill,
        kill_name=kill or "",
        kill_at=at if at is not None else duration / 2,
    )
    # The progress bar goes to stderr, so that --json output stays one clean object.
    progress = Console(stderr=True) if sys.stderr.isatty() else None
    try:
        report = asyncio.run(run(plan, progress))
    except (ValueError, RuntimeError) as error:
        console.print(f"[red]error:[/red] {error}")
        sys.exit(2)
    if as_json:
        print(json.dumps(report))
    else:
        render(report, console)
    if report["failed"]:
        sys.exit(1)
