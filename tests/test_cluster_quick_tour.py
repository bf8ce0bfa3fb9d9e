"""The quick tour of the README, typed as written, on a machine with Redis and
RabbitMQ already on their standard ports: the cluster runs its own, and ``down``
leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from ecomarket.servers import port_open

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TOUR = re.compile(r"<!-- quick-tour:.*?-->\s*```sh\n(.*?)```", re.DOTALL)


def tour_lines() -> list[str]:
    """The commands of the quick tour, as the reader types them."""
    found = TOUR.search((ROOT / "README.md").read_text())
    assert found, "README.md has no quick tour block"
    return [line for line in found.group(1).splitlines() if line.strip()]


@pytest.fixture
def standard_ports_taken() -> Iterator[None]:
    """Something listens on 6379 and 5672, as on a machine with Redis and RabbitMQ."""
    with ExitStack() as stack:
        for port in (6379, 5672):
            if port_open(port):
                continue
            # Nobody is there: stand in with a listener that answers nothing.
            listener = stack.enter_context(socket.socket())
            listener.bind(("127.0.0.1", port))
            listener.listen()
        yield


def processes_of(run_dir: Path) -> list[int]:
    """Pids of live processes that mention the run folder in their command or environment."""
    marker = str(run_dir).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in text:
            found.append(int(entry.name))
    return found


def test_quick_tour_as_written(tmp_path: Path, standard_ports_taken: None) -> None:
    if port_open(8080):
        pytest.skip("port 8080 is taken on this machine; the tour is written for it")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for variable in ("ECOMARKET_ADMIN_TOKEN", "ECOMARKET_BRANCH_TOKENS"):
        env.pop(variable, None)
    run_dir = tmp_path / ".ecomarket"
    outputs: list[tuple[str, str]] = []

    try:
        for line in tour_lines():
            if line.startswith("ecomarket down"):
                alive = processes_of(run_dir)
                state = json.loads((run_dir / "cluster.json").read_text())
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", line],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
            )  # fmt: skip
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            outputs.append((line, done.stdout))
    finally:
        subprocess.run(
            [sys.executable, "-m", "ecomarket", "down", "--run-dir", str(run_dir)],
            capture_output=True,
            timeout=120,
        )

    curls = [out.strip().lower() for line, out in outputs if line.startswith("curl")]
    assert all(out.startswith("x-served-by: central-") for out in curls), curls
    assert "6379" not in state["redis_url"] and "5672" not in state["amqp_url"]
    assert {"redis", "rabbitmq", "epmd", "central-1", "central-2", "nginx"} <= set(
        state["programs"]
    )
    assert len(alive) >= 6
    assert processes_of(run_dir) == []
