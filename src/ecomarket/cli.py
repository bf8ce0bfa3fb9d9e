"""The ``ecomarket`` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ecomarket.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="EcoMarket back office.")


@app.command()
def central(
    port: Annotated[int, typer.Option(help="port to listen on")] = 8001,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    instance: Annotated[
        str | None, typer.Option(help="instance name (default: ECOMARKET_INSTANCE)")
    ] = None,
) -> None:
    """Run one central instance."""
    from ecomarket.central.main import build
    from ecomarket.serve import serve

    settings = Settings()
    if instance:
        settings = settings.model_copy(update={"instance": instance})
    serve(build(settings), name=settings.instance, host=host, port=port)


@app.command()
def seed(
    branches: Annotated[
        str | None,
        typer.Option(help="comma-separated branch ids (default: those in ECOMARKET_BRANCH_TOKENS)"),
    ] = None,
) -> None:
    """Load the demo catalogue and opening stock, idempotently."""
    import redis.asyncio as redis

    from ecomarket.central.store import CentralStore
    from ecomarket.seed import seed as load

    settings = Settings()
    branch_ids = [b.strip() for b in branches.split(",")] if branches else settings.branch_ids
    if not branch_ids:
        branch_ids = ["branch-1"]

    async def run() -> tuple[int, int]:
        client = redis.Redis.from_url(settings.redis_url)
        try:
            return await load(CentralStore(client, "seed"), branch_ids)
        finally:
            await client.aclose()

    created, applied = asyncio.run(run())
    typer.echo(
        f"seeded: {created} products created, {applied} opening stock movements applied "
        f"for {', '.join(branch_ids)}"
    )


@app.command()
def branch(
    branch_id: Annotated[str, typer.Option("--id", help="branch id, e.g. branch-1")],
    port: Annotated[int, typer.Option(help="port to listen on")] = 8101,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    central_url: Annotated[
        str, typer.Option(help="the central (or its load balancer)")
    ] = "http://127.0.0.1:8080",
    data_dir: Annotated[Path, typer.Option(help="folder of the branch's SQLite file")] = Path(
        "data"
    ),
) -> None:
    """Run one branch (till, outbox, dispatcher); its token comes from ECOMARKET_BRANCH_TOKEN."""
    import re

    from ecomarket.branch.main import run
    from ecomarket.config import BRANCH_ID_PATTERN

    if not re.match(BRANCH_ID_PATTERN, branch_id):
        raise typer.BadParameter(f"{branch_id!r} is not a branch id", param_hint="--id")
    run(branch_id, port, host, central_url, data_dir)


RunDirOption = Annotated[
    Path, typer.Option("--run-dir", help="the cluster's run folder (configs, pids, logs, data)")
]


@app.command()
def up(
    centrals: Annotated[int, typer.Option(help="central instances behind nginx")] = 2,
    branches: Annotated[int, typer.Option(help="branches, each seeded with opening stock")] = 1,
    balance: Annotated[str, typer.Option(help="round-robin or least-conn")] = "round-robin",
    port: Annotated[int, typer.Option(help="port of the load balancer")] = 8080,
    run_dir: RunDirOption = Path(".ecomarket"),
    redis_url: Annotated[str | None, typer.Option(help="use this Redis")] = None,
    amqp_url: Annotated[str | None, typer.Option(help="use this RabbitMQ")] = None,
    detach: Annotated[bool, typer.Option("--detach", help="return once ready")] = False,
) -> None:
    """Start the whole system on this machine: centrals, nginx, branches, Redis, RabbitMQ."""
    from ecomarket.cluster.commands import run_up
    from ecomarket.cluster.launcher import UpOptions

    options = UpOptions(centrals, branches, balance, port, run_dir, redis_url, amqp_url)
    run_up(options, detach)


@app.command()
def ps(run_dir: RunDirOption = Path(".ecomarket")) -> None:
    """Each process of the cluster: name, pid, port, state, health."""
    from ecomarket.cluster.commands import run_ps

    run_ps(run_dir)


@app.command()
def logs(
    name: Annotated[str | None, typer.Argument(help="one process (default: all)")] = None,
    run_dir: RunDirOption = Path(".ecomarket"),
    lines: Annotated[int, typer.Option("--lines", "-n", help="lines per process")] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing")] = False,
) -> None:
    """The last lines of one process's log, or of every process's."""
    from ecomarket.cluster.commands import run_logs

    run_logs(run_dir, name, lines, follow)


@app.command()
def stop(name: str, run_dir: RunDirOption = Path(".ecomarket")) -> None:
    """Stop one process gracefully (it stays down until `start`)."""
    from ecomarket.cluster.commands import run_action

    run_action("stop", run_dir, name)


@app.command()
def start(name: str, run_dir: RunDirOption = Path(".ecomarket")) -> None:
    """Start one stopped process."""
    from ecomarket.cluster.commands import run_action

    run_action("start", run_dir, name)


@app.command()
def kill(name: str, run_dir: RunDirOption = Path(".ecomarket")) -> None:
    """SIGKILL one process, for failover drills (supervisord restarts it)."""
    from ecomarket.cluster.commands import run_action

    run_action("kill", run_dir, name)


@app.command()
def scale(count: int, run_dir: RunDirOption = Path(".ecomarket")) -> None:
    """Run COUNT central instances; nginx is reloaded gracefully."""
    from ecomarket.cluster.commands import run_scale

    run_scale(run_dir, count)


@app.command()
def down(run_dir: RunDirOption = Path(".ecomarket")) -> None:
    """Stop every process of the cluster; data and logs are kept."""
    from ecomarket.cluster.commands import run_down

    run_down(run_dir)


@app.command()
def loadtest(
    url: Annotated[str, typer.Option(help="the load balancer, e.g. http://127.0.0.1:8080")],
    duration: Annotated[float, typer.Option(help="seconds of load")] = 20,
    concurrency: Annotated[int, typer.Option(help="requests in flight")] = 32,
    mix: Annotated[str, typer.Option(help="read, write or mixed")] = "mixed",
    kill: Annotated[str | None, typer.Option("--kill", help="process to SIGKILL mid-run")] = None,
    at: Annotated[float | None, typer.Option("--at", help="seconds into the run")] = None,
    run_dir: RunDirOption = Path(".ecomarket"),
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Drive the load balancer, then check every acknowledged write and the stock."""
    from ecomarket.loadtest.command import run_loadtest

    run_loadtest(url, duration, concurrency, mix, kill, at, run_dir, as_json)


def main() -> None:
    """Entry point of the console script."""
    app()
