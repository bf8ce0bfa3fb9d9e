"""nginx in front of the central instances: its config, generated from a template."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jinja2

from ecomarket.cluster.supervisor import ProgramSpec

NGINX = Path("/usr/sbin/nginx")
BALANCES = ("round-robin", "least-conn")


def nginx_binary() -> str:
    """Debian's nginx, or whichever nginx is on the PATH."""
    if NGINX.exists():
        return str(NGINX)
    found = shutil.which("nginx")
    if found is None:
        raise FileNotFoundError("nginx is not installed: run scripts/install-system.sh")
    return found


def render(
    prefix: Path,
    port: int,
    upstream_ports: list[int],
    balance: str,
    access_log: Path,
    *,
    workers: int = 1,
    generator: str = "up",
) -> str:
    """The nginx config for a load balancer on ``port`` over ``upstream_ports``."""
    if balance not in BALANCES:
        raise ValueError(f"balance must be one of {', '.join(BALANCES)}, not {balance!r}")
    template = (resources.files("ecomarket.cluster") / "nginx.conf.j2").read_text()
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return environment.from_string(template).render(
        prefix=prefix,
        port=port,
        ports=upstream_ports,
        balance=balance,
        access_log=access_log,
        workers=workers,
        # 0: retry on every live instance once, however many there are.
        tries=0,
        generator=generator,
    )


def write_config(
    prefix: Path,
    port: int,
    upstream_ports: list[int],
    balance: str,
    access_log: Path,
    *,
    workers: int = 1,
    generator: str = "up",
) -> Path:
    """Write ``nginx.conf`` into ``prefix`` and check it with ``nginx -t``."""
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    text = render(
        prefix, port, upstream_ports, balance, access_log, workers=workers, generator=generator
    )
    path = prefix / "nginx.conf"
    candidate = prefix / "nginx.conf.new"
    candidate.write_text(text)
    check = subprocess.run(
        [nginx_binary(), "-t", "-q", "-p", str(prefix), "-e", "stderr", "-c", str(candidate)],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise RuntimeError(f"generated nginx config is invalid:\n{check.stderr}")
    # Replace in one step, so that a reload never reads half a file.
    candidate.replace(path)
    return path


def command(prefix: Path) -> list[str]:
    """The command line that runs nginx in the foreground on the config in ``prefix``."""
    return [nginx_binary(), "-p", str(prefix), "-e", "stderr", "-c", str(prefix / "nginx.conf")]


def program(prefix: Path) -> ProgramSpec:
    """nginx as a supervisord program; QUIT lets it finish the requests in flight."""
    return ProgramSpec(
        name="nginx", command=command(prefix), priority=900, stop_signal="QUIT", stop_wait=20
    )
