"""What the cluster commands of the ``ecomarket`` CLI print and how they end."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.table import Table

from ecomarket.cluster import control
from ecomarket.cluster.launcher import ClusterError, UpOptions, addresses, up
from ecomarket.cluster.layout import RunDir
from ecomarket.cluster.logs import follow, last_lines, log_sizes

logger = logging.getLogger(__name__)
console = Console(highlight=False)


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s launcher: %(message)s"
    )
    # One line per health probe would drown what the launcher has to say.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def fail(error: Exception) -> None:
    """Print an error the user can act on and exit with status 1."""
    console.print(f"[red]error:[/red] {error}")
    sys.exit(1)


def run_up(options: UpOptions, detach: bool) -> None:
    """Start the cluster; in the foreground, show its logs until Ctrl-C, then stop it."""
    _setup_logging()
    # Lines a previous run left in the logs are not shown; everything this run writes is.
    since = log_sizes(RunDir(options.run_dir)) if RunDir(options.run_dir).logs.exists() else {}
    try:
        state, tokens = up(options)
    except (ClusterError, TimeoutError, ValueError, RuntimeError) as error:
        fail(error)
        return
    run = RunDir(options.run_dir)
    for line in addresses(state, run, tokens):
        console.print(line)
    if detach:
        console.print(f"detached; stop it with `ecomarket down --run-dir {options.run_dir}`")
        return

    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    console.print("showing every process's log; Ctrl-C stops the cluster")
    follow(run, lambda line: print(line, flush=True), lambda: not stopping, since=since)
    console.print("stopping the cluster ...")
    control.down(options.run_dir)
    console.print("stopped")


def run_ps(run_dir: Path) -> None:
    """Print each process: name, pid, port, state, health."""
    try:
        rows = control.ps(run_dir)
    except ClusterError as error:
        fail(error)
        return
    table = Table("name", "pid", "port", "state", "health")
    for row in rows:
        health = "[green]ok[/green]" if row.healthy else "[red]down[/red]"
        table.add_row(row.name, str(row.pid or "-"), str(row.port or "-"), row.state, health)
    console.print(table)


def run_logs(run_dir: Path, name: str | None, lines: int, keep_following: bool) -> None:
    """Print the last lines of one or every process's log, and follow them when asked."""
    run = RunDir(run_dir)
    try:
        for line in last_lines(run, name, lines):
            print(line)
    except KeyError as error:
        fail(error)
    if keep_following:
        try:
            follow(run, lambda line: print(line, flush=True), lambda: True, only=name)
        except KeyboardInterrupt:
            return


def run_action(action: str, run_dir: Path, name: str) -> None:
    """stop, start or kill one process by name."""
    _setup_logging()
    act = {"stop": control.stop, "start": control.start, "kill": control.kill}[action]
    try:
        act(run_dir, name)
    except (ClusterError, TimeoutError) as error:
        fail(error)


def run_scale(run_dir: Path, count: int) -> None:
    """Scale the centrals to ``count`` instances."""
    _setup_logging()
    try:
        names = control.scale(run_dir, count)
    except (ClusterError, TimeoutError, RuntimeError) as error:
        fail(error)
        return
    console.print(f"central instances: {', '.join(names)}")


def run_down(run_dir: Path) -> None:
    """Stop the whole cluster."""
    _setup_logging()
    if control.down(run_dir):
        console.print(f"cluster in {RunDir(run_dir).root} stopped; data and logs are kept")
    else:
        console.print(f"no cluster runs in {RunDir(run_dir).root}")
