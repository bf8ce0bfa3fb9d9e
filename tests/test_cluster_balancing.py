"""The load balancer of ``ecomarket up``: round robin, failover and scaling, under real load."""

from __future__ import annotations

import itertools
import time

import httpx
import pytest

from tests.cluster_fixtures import Cluster, report_of, shared_cluster

pytestmark = pytest.mark.slow
__all__ = ["shared_cluster"]


def served_by(url: str, count: int) -> list[str]:
    """Which instance served each of ``count`` sequential requests."""
    with httpx.Client(base_url=url, timeout=10) as client:
        return [client.get("/api/v1/products/101").headers["x-served-by"] for _ in range(count)]


def assert_clean(report: dict[str, object]) -> None:
    """Zero failed requests, every acknowledged write found, stock exact."""
    verification = report["verification"]
    assert isinstance(verification, dict)
    assert report["failed"] == 0, report
    assert verification["acknowledged_missing"] == [], report
    assert verification["stock_differences"] == [], report


def test_round_robin_alternates_between_two_instances(shared_cluster: Cluster) -> None:
    order = served_by(shared_cluster.url, 20)

    assert set(order) == {"central-1", "central-2"}
    assert all(a != b for a, b in itertools.pairwise(order)), order


def test_sigkill_of_an_instance_under_mixed_load_fails_no_request(
    shared_cluster: Cluster,
) -> None:
    load = shared_cluster.loadtest(
        "--duration", "20", "--concurrency", "16", "--mix", "mixed",
        "--kill", "central-1", "--at", "8",
    )  # fmt: skip
    report = report_of(load)

    assert report["killed"]["name"] == "central-1"
    assert_clean(report)
    assert sum(report["writes_acknowledged"].values()) > 50
    assert set(report["share_per_instance"]) == {"central-1", "central-2"}


def test_scale_up_then_down_under_load_fails_no_request(shared_cluster: Cluster) -> None:
    load = shared_cluster.loadtest("--duration", "18", "--concurrency", "16", "--mix", "mixed")
    time.sleep(3)

    shared_cluster.run("scale", "3")
    # With three instances, the new one takes its turn at once.
    with_three = served_by(shared_cluster.url, 30)
    time.sleep(4)
    shared_cluster.run("scale", "2")
    report = report_of(load)

    assert with_three.count("central-3") >= 5, with_three
    assert report["share_per_instance"].get("central-3", 0) >= 0.05, report
    assert_clean(report)
    assert shared_cluster.state.names_of("central") == ["central-1", "central-2"]
    assert set(served_by(shared_cluster.url, 6)) == {"central-1", "central-2"}
