"""The programs of a local cluster, as supervisord runs them."""

from __future__ import annotations

import shutil
import subprocess
import sys

from ecomarket.cluster.layout import ClusterState, RunDir, Tokens
from ecomarket.cluster.supervisor import ProgramSpec
from ecomarket.servers import Program, rabbitmq_program, redis_program

ECOMARKET = [sys.executable, "-m", "ecomarket"]


def _from_server(program: Program, priority: int, stop_wait: int = 20) -> ProgramSpec:
    return ProgramSpec(
        name=program.name,
        command=program.command,
        env=program.env,
        cwd=program.cwd,
        priority=priority,
        stop_wait=stop_wait,
    )


def redis(run: RunDir, port: int) -> ProgramSpec:
    """A private redis-server with its append-only file in the run folder."""
    return _from_server(redis_program(run.data("redis"), port, persist=True), priority=100)


def rabbitmq(run: RunDir, port: int) -> list[ProgramSpec]:
    """A private RabbitMQ node, and the epmd it registers with, both in the foreground.

    Left to itself, RabbitMQ would start epmd as a daemon that outlives ``down``;
    run under supervisord, epmd stops with the rest.
    """
    node = rabbitmq_program(run.data("rabbitmq"), port)
    epmd_port = node.env["ERL_EPMD_PORT"]
    epmd = ProgramSpec(
        name="epmd",
        command=[shutil.which("epmd") or "epmd", "-port", epmd_port, "-address", "127.0.0.1"],
        priority=100,
    )
    # A node takes a while to write its queues to disk when told to stop.
    return [epmd, _from_server(node, priority=200, stop_wait=60)]


def service_env(state: ClusterState, tokens: Tokens, instance: str) -> dict[str, str]:
    """The environment every EcoMarket process of the cluster gets."""
    return {
        "ECOMARKET_REDIS_URL": state.redis_url,
        "ECOMARKET_AMQP_URL": state.amqp_url,
        "ECOMARKET_INSTANCE": instance,
        **tokens.env(),
    }


def central(name: str, port: int, state: ClusterState, tokens: Tokens) -> ProgramSpec:
    """One central instance."""
    return ProgramSpec(
        name=name,
        command=[*ECOMARKET, "central", "--port", str(port), "--instance", name],
        env=service_env(state, tokens, name),
        priority=500,
        stop_wait=15,
    )


def branch(run: RunDir, name: str, port: int, state: ClusterState, tokens: Tokens) -> ProgramSpec:
    """One branch, talking to the central through nginx."""
    data = run.data(name)
    data.mkdir(parents=True, exist_ok=True)
    command = [
        *ECOMARKET, "branch",
        "--id", name,
        "--port", str(port),
        "--central-url", state.url,
        "--data-dir", str(data),
    ]  # fmt: skip
    env = {**service_env(state, tokens, name), "ECOMARKET_BRANCH_TOKEN": tokens.branches[name]}
    return ProgramSpec(name=name, command=command, env=env, priority=950)


def branch_command_available() -> bool:
    """Whether this install has the ``ecomarket branch`` command."""
    done = subprocess.run([*ECOMARKET, "branch", "--help"], capture_output=True, timeout=60)
    return done.returncode == 0
