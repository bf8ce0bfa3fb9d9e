"""Whether the programs of a cluster answer: what ``up`` waits for and ``ps`` shows."""

from __future__ import annotations

import time

import httpx

from ecomarket.cluster.layout import ProgramInfo
from ecomarket.servers import port_open

# Programs that speak HTTP, and the path that says they are ready to serve.
READY_PATHS = {"central": "/readyz", "branch": "/healthz", "nginx": "/healthz"}


def http_ok(port: int, path: str, timeout: float = 1.0) -> bool:
    """Whether ``GET path`` on the local ``port`` answers 200."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def is_healthy(info: ProgramInfo) -> bool:
    """Whether one program answers as it should (HTTP when it speaks HTTP, else its port)."""
    if info.kind == "epmd":
        return port_open(info.port)
    path = READY_PATHS.get(info.kind)
    return http_ok(info.port, path) if path else port_open(info.port)


def wait_healthy(name: str, info: ProgramInfo, timeout: float) -> None:
    """Wait until the program answers; TimeoutError naming it after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not is_healthy(info):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} not ready on port {info.port} after {timeout:.0f} s")
        time.sleep(0.2)
