"""A private RabbitMQ node that a test may stop and start again, with its own epmd.

The node would otherwise start a daemon epmd that outlives the test; here epmd runs
in the foreground as our child and is stopped after the node.

``rabbitmq-server`` is a shell script running the Erlang VM as its child: on SIGTERM
the script exits at once while the VM is still shutting down. So stopping a node
here waits until its whole process group is gone, lest the next start of the same
node (same name, same data folder) run next to the old one, or epmd be stopped
under a node that is still shutting down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ecomarket.servers import Program, free_port, rabbitmq_program, wait_for_port
from tests.processes import Running, start_program


@contextmanager
def private_node(
    folder: Path, log_dir: Path, name: str, port: int | None = None
) -> Iterator[tuple[Program, list[Running]]]:
    """epmd and a node on free ports (AMQP on ``port`` when given); ``nodes[-1]`` is the
    one running (restarts append)."""
    program = rabbitmq_program(folder, port or free_port(), name=name)
    epmd_port = int(program.env["ERL_EPMD_PORT"])
    with (log_dir / f"epmd-{epmd_port}.log").open("ab") as out:
        epmd = subprocess.Popen(
            ["epmd", "-port", str(epmd_port), "-address", "127.0.0.1"],
            env=program.full_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    nodes: list[Running] = []
    try:
        wait_for_port(epmd_port, 10)
        nodes.append(start_program(program, log_dir, timeout=90))
        yield program, nodes
    finally:
        if nodes:
            halt(nodes[-1], signal.SIGTERM)
        epmd.terminate()
        epmd.wait(10)


def halt(node: Running, how: signal.Signals, timeout: float = 30) -> None:
    """Stop the node cleanly (SIGTERM) or kill it (SIGKILL), and wait until the VM is gone."""
    group = node.process.pid  # started in a session of its own: the group's id
    if how == signal.SIGKILL:
        _signal_group(group, signal.SIGKILL)
    node.stop(timeout=timeout)
    deadline = time.monotonic() + timeout
    while _group_alive(group):
        if time.monotonic() > deadline:
            _signal_group(group, signal.SIGKILL)
            deadline = time.monotonic() + 10
        time.sleep(0.1)


def _signal_group(group: int, how: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, how)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
