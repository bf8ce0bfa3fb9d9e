"""Cluster benchmark: the load test through nginx with two central instances, as a ratio of
the same load test through the same generated nginx in front of two trivial FastAPI
instances, with the same client, in the same run.

    .venv/bin/python -m bench.bench_cluster [--duration 6] [--concurrency 32] [--rounds 3]

Targets: reads at least 0.7 of the ceiling, writes at least 0.5. The figures are
written to bench/results/cluster.json as well.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ecomarket.cluster import nginx
from ecomarket.cluster.layout import RunDir, read_tokens
from ecomarket.cluster.programs import pick_port
from ecomarket.loadtest.runner import LoadPlan, run
from ecomarket.servers import free_port, wait_for_port

TARGETS = {"read": 0.7, "write": 0.5}
RESULTS = Path(__file__).parent / "results" / "cluster.json"


def start_ceiling(folder: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """Two trivial FastAPI instances behind a generated nginx; its URL and the processes."""
    processes = []
    ports = []
    for n in (1, 2):
        port = free_port()
        command = [
            sys.executable, "-m", "ecomarket.cluster.trivial",
            "--port", str(port), "--name", f"trivial-{n}",
        ]  # fmt: skip
        log = (folder / f"trivial-{n}.log").open("wb")
        processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        ports.append(port)
    for port in ports:
        wait_for_port(port, 30)
    prefix = folder / "nginx"
    balancer_port = free_port()
    nginx.write_config(prefix, balancer_port, ports, "round-robin", prefix / "access.log")
    log = (folder / "nginx.log").open("wb")
    processes.append(subprocess.Popen(nginx.command(prefix), stdout=log, stderr=subprocess.STDOUT))
    wait_for_port(balancer_port, 30)
    return f"http://127.0.0.1:{balancer_port}", processes


def load(url: str, mix: str, options: argparse.Namespace, tokens: Any, check: bool) -> Any:
    """One load test run, in this process (the same client code for both sides)."""
    plan = LoadPlan(
        url=url,
        duration=options.duration,
        concurrency=options.concurrency,
        mix=mix,
        admin_token=tokens.admin,
        branch_tokens=tokens.branches,
        verify=check,
    )
    return asyncio.run(run(plan))


def compare(
    ceiling_url: str, cluster_url: str, mix: str, options: argparse.Namespace, tokens: Any
) -> dict[str, Any]:
    """Ceiling and cluster, alternated for each round, so that both meet the same machine."""
    ceiling_runs, cluster_runs = [], []
    for _ in range(options.rounds):
        ceiling_runs.append(load(ceiling_url, mix, options, tokens, check=False))
        cluster_runs.append(load(cluster_url, mix, options, tokens, check=True))
    ceiling_rps = sum(r["rps"] for r in ceiling_runs) / options.rounds
    cluster_rps = sum(r["rps"] for r in cluster_runs) / options.rounds
    return {
        "cluster_rps": round(cluster_rps, 1),
        "ceiling_rps": round(ceiling_rps, 1),
        "ratio": round(cluster_rps / ceiling_rps, 3),
        "target": TARGETS[mix],
        "cluster_failed": sum(r["failed"] for r in cluster_runs),
        "cluster_latency_ms": cluster_runs[-1]["latency_ms"],
        "ceiling_latency_ms": ceiling_runs[-1]["latency_ms"],
        "cluster_share": cluster_runs[-1]["share_per_instance"],
    }


def main() -> None:
    """Run both sides for the read mix and the write mix, and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as temporary:
        folder = Path(temporary)
        run_dir = folder / "run"
        ecomarket = [sys.executable, "-m", "ecomarket"]
        subprocess.run(
            [*ecomarket, "up", "--detach", "--centrals", "2", "--branches", "0",
             "--port", str(pick_port()), "--run-dir", str(run_dir)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        ceiling_url, ceiling = start_ceiling(folder)
        try:
            state = RunDir(run_dir).load()
            tokens = read_tokens(RunDir(run_dir))
            results: dict[str, Any] = {}
            for mix in ("read", "write"):
                results[mix] = compare(ceiling_url, state.url, mix, options, tokens)
        finally:
            for process in ceiling:
                process.terminate()
                process.wait(20)
            subprocess.run([*ecomarket, "down", "--run-dir", str(run_dir)], check=False,
                           stdout=subprocess.DEVNULL)  # fmt: skip

    results["settings"] = vars(options)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    for mix in ("read", "write"):
        row = results[mix]
        verdict = "ok" if row["ratio"] >= row["target"] else "BELOW TARGET"
        print(
            f"{mix:<5} cluster {row['cluster_rps']:>8.1f} rps  ceiling {row['ceiling_rps']:>8.1f} "
            f"rps  ratio {row['ratio']:.2f} (target {row['target']})  {verdict}  "
            f"failed {row['cluster_failed']}"
        )


if __name__ == "__main__":
    main()
