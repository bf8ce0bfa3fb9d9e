"""The load test's figures: counts, failures by kind, throughput, latency, share per instance."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from ecomarket.loadtest.client import Sample


def percentile(sorted_values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values lie (nearest rank)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(share * len(sorted_values)) - 1))
    return sorted_values[rank]


@dataclass
class Tally:
    """Samples folded into counters as they arrive (nothing kept per request but latency)."""

    requests: int = 0
    retried: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    served_by: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        """Count one request."""
        self.requests += 1
        self.retried += sample.retried
        self.latencies.append(sample.latency)
        if sample.failure:
            self.failures[sample.failure] += 1
        if sample.served_by:
            self.served_by[sample.served_by] += 1


def build_report(
    tally: Tally,
    elapsed: float,
    *,
    url: str,
    mix: str,
    concurrency: int,
    writes: dict[str, int],
    verification: dict[str, Any],
    killed: dict[str, Any] | None,
) -> dict[str, Any]:
    """The report as one JSON-ready object."""
    failures = Counter(tally.failures)
    for kind, count in verification.get("failures", {}).items():
        failures[kind] += count
    latencies = sorted(tally.latencies)
    served = sum(tally.served_by.values()) or 1
    return {
        "url": url,
        "mix": mix,
        "concurrency": concurrency,
        "duration_s": round(elapsed, 2),
        "requests": tally.requests,
        "failed": sum(failures.values()),
        "failures": dict(failures),
        "retried_on_closed_connection": tally.retried,
        "rps": round(tally.requests / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {
            name: round(percentile(latencies, share) * 1000, 2)
            for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
        },
        "share_per_instance": {
            instance: round(count / served, 3)
            for instance, count in sorted(tally.served_by.items())
        },
        "writes_acknowledged": writes,
        "verification": {k: v for k, v in verification.items() if k != "failures"},
        "killed": killed,
    }


def render(report: dict[str, Any], console: Console) -> None:
    """Print the report as a table for people."""
    table = Table("figure", "value", title=f"load test of {report['url']} ({report['mix']})")
    table.add_row("requests", str(report["requests"]))
    table.add_row("failed", str(report["failed"]))
    for kind, count in sorted(report["failures"].items()):
        table.add_row(f"  {kind}", str(count))
    table.add_row("retried (closed connection)", str(report["retried_on_closed_connection"]))
    table.add_row("requests per second", f"{report['rps']:.1f}")
    for name, value in report["latency_ms"].items():
        table.add_row(f"latency {name}", f"{value:.1f} ms")
    for instance, share in report["share_per_instance"].items():
        table.add_row(f"served by {instance}", f"{share:.1%}")
    for kind, count in report["writes_acknowledged"].items():
        table.add_row(f"{kind} acknowledged", str(count))
    for name, value in report["verification"].items():
        table.add_row(f"check: {name}", str(value))
    if report["killed"]:
        killed = report["killed"]
        table.add_row("killed", f"{killed['name']} at {killed['at_s']} s")
    console.print(table)
