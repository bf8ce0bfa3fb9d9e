"""``ecomarket up``: start a whole cluster on this machine and wait until it serves."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from ecomarket.central.store import CentralStore
from ecomarket.cluster import nginx, programs
from ecomarket.cluster.health import wait_healthy
from ecomarket.cluster.layout import ClusterState, ProgramInfo, RunDir, Tokens, ensure_tokens
from ecomarket.cluster.supervisor import ProgramSpec, Supervisor, write_main_conf, write_program
from ecomarket.seed import seed
from ecomarket.servers import port_open

logger = logging.getLogger(__name__)


class ClusterError(Exception):
    """The cluster cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class UpOptions:
    """The options of ``ecomarket up``."""

    centrals: int = 2
    branches: int = 1
    balance: str = "round-robin"
    port: int = 8080
    run_dir: Path = Path(".ecomarket")
    redis_url: str | None = None
    amqp_url: str | None = None


def _port_for(previous: ClusterState | None, name: str) -> int:
    # Reusing the port of the last run keeps RabbitMQ's node name, hence its data.
    if previous and name in previous.programs and not port_open(previous.programs[name].port):
        return previous.programs[name].port
    return programs.pick_port()


def plan(run: RunDir, options: UpOptions, previous: ClusterState | None) -> list[ProgramSpec]:
    """Decide ports and write every program's config; returns them in start order."""
    if options.centrals < 1 or options.branches < 0:
        raise ClusterError("--centrals must be at least 1 and --branches at least 0")
    branch_ids = [f"branch-{n}" for n in range(1, options.branches + 1)]
    tokens = ensure_tokens(run, branch_ids or ["branch-1"])
    state = ClusterState(
        port=options.port,
        balance=options.balance,
        redis_url=options.redis_url or "",
        amqp_url=options.amqp_url or "",
    )
    specs: list[ProgramSpec] = []
    programs.reserve([options.port])

    if not options.redis_url:
        port = _port_for(previous, "redis")
        specs.append(programs.redis(run, port))
        state.programs["redis"] = ProgramInfo("redis", port)
        state.redis_url = f"redis://127.0.0.1:{port}/0"
    if not options.amqp_url:
        port = _port_for(previous, "rabbitmq")
        epmd, node = programs.rabbitmq(run, port)
        specs += [epmd, node]
        state.programs["epmd"] = ProgramInfo("epmd", int(epmd.command[2]))
        state.programs["rabbitmq"] = ProgramInfo("rabbitmq", port)
        state.amqp_url = f"amqp://guest:guest@127.0.0.1:{port}/"

    for n in range(1, options.centrals + 1):
        name, port = f"central-{n}", programs.pick_port()
        specs.append(programs.central(name, port, state, tokens))
        state.programs[name] = ProgramInfo("central", port)
    specs.append(nginx.program(run.nginx))
    state.programs["nginx"] = ProgramInfo("nginx", options.port)
    if branch_ids and not programs.branch_command_available():
        logger.warning("`ecomarket branch` is not available in this install: no branch started")
        branch_ids = []
    for name in branch_ids:
        port = programs.pick_port()
        specs.append(programs.branch(run, name, port, state, tokens))
        state.programs[name] = ProgramInfo("branch", port)

    for old in run.programs.glob("*.conf"):
        old.unlink()
    for spec in specs:
        write_program(run, spec)
    write_main_conf(run)
    nginx.write_config(
        run.nginx, options.port, [state.programs[n].port for n in state.names_of("central")],
        options.balance, run.logs / "nginx-access.log",
    )  # fmt: skip
    run.save(state)
    return specs


def up(options: UpOptions) -> tuple[ClusterState, Tokens]:
    """Start the cluster described by ``options`` and wait until it is ready."""
    run = RunDir(options.run_dir)
    run.create()
    supervisor = Supervisor(run)
    if supervisor.running():
        raise ClusterError(
            f"a cluster already runs in {run.root}; stop it with "
            f"`ecomarket down --run-dir {options.run_dir}`"
        )
    if port_open(options.port):
        raise ClusterError(f"port {options.port} is taken; choose another with --port")
    previous = run.load() if run.exists() else None
    plan(run, options, previous)
    state = run.load()
    tokens = ensure_tokens(run, state.names_of("branch") or ["branch-1"])

    supervisor.launch()
    try:
        _start_in_order(supervisor, state, tokens)
    except BaseException:
        logger.error("start failed; stopping what was started (logs stay in %s)", run.logs)
        supervisor.shutdown()
        raise
    return state, tokens


def _start_in_order(supervisor: Supervisor, state: ClusterState, tokens: Tokens) -> None:
    # Servers first, then the catalogue, then centrals, nginx, and branches last,
    # so that nothing starts before what it talks to answers.
    timeouts = {"redis": 30.0, "epmd": 15.0, "rabbitmq": 120.0}
    for kind in ("redis", "epmd", "rabbitmq"):
        for name in state.names_of(kind):
            supervisor.start(name)
            wait_healthy(name, state.programs[name], timeouts[kind])

    branch_ids = list(tokens.branches)
    created, applied = asyncio.run(_seed(state.redis_url, branch_ids))
    logger.info("catalogue seeded: %s products created, %s opening movements", created, applied)

    for kind, timeout in (("central", 60.0), ("nginx", 30.0), ("branch", 60.0)):
        names = state.names_of(kind)
        for name in names:
            supervisor.start(name)
        for name in names:
            wait_healthy(name, state.programs[name], timeout)


async def _seed(redis_url: str, branch_ids: list[str]) -> tuple[int, int]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        return await seed(CentralStore(client, "launcher"), branch_ids)
    finally:
        await client.aclose()


def addresses(state: ClusterState, run: RunDir, tokens: Tokens) -> list[str]:
    """The lines ``up`` prints once the cluster is ready."""
    centrals = ", ".join(state.names_of("central"))
    # The dashboard comes last, so that the block ends with the address to open.
    rows = [
        ("balancer", f"{state.url} -> {centrals} ({state.balance})"),
        ("API docs", f"{state.url}/docs"),
        *(
            (name, f"http://127.0.0.1:{state.programs[name].port}")
            for name in state.names_of("branch")
        ),
        ("tokens", str(tokens.source)),
        ("dashboard", f"{state.url}/dashboard"),
    ]
    width = max(len(label) for label, _ in rows)
    return [
        f"EcoMarket is up (run folder {run.root})",
        *(f"  {label:<{width}}  {value}" for label, value in rows),
    ]
