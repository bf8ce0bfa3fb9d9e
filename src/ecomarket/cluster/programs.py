"""The programs of a local cluster, as supervisord runs them."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from ecomarket.cluster.layout import ClusterState, RunDir, Tokens
from ecomarket.cluster.supervisor import ProgramSpec
from ecomarket.servers import Program, rabbitmq_program, redis_program

ECOMARKET = [sys.executable, "-m", "ecomarket"]
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()  # ports planned but maybe not bound yet: never twice


def reserve(ports: list[int]) -> None:
    """Ports already planned for some program (maybe not bound right now): never pick them."""
    _handed_out.update(ports)


def pick_port(attempts: int = 200) -> int:
    """A free port below the kernel's ephemeral range, for a program started later.

    A port the kernel hands out for bind(0) (servers.free_port) is also what it
    hands to outgoing connections and to anyone else asking, so between planning
    and starting a program it may be taken; ports below the range are not.
    """
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(attempts):
        port = random.randint(max(1024, low - 12000), low - 1)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


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
