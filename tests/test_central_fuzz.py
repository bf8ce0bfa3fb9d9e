"""Fuzz the central's HTTP API against its own OpenAPI schema (schemathesis).

One real central process, started without consumers, answers every operation
that ``/openapi.json`` declares, called with the admin token and with inputs
generated from the schema (valid and invalid ones). Each answer must:

- never be a server error;
- use a status code, content type and body that the schema declares for it;
- refuse what the schema says is invalid, and demand the token where the
  schema declares security;
- carry ``X-Served-By`` with the instance's name;
- when it is a 4xx, name the offending field: ``detail`` is a list of problems,
  each with a ``field``, or a "<field>: what is wrong" text, and the field is
  one the operation declares (a parameter, a body property, ``Authorization``,
  the ``body`` itself or the ``method``) or an unknown one the request sent.

Deliberately not checked: that every schema-valid request is accepted. Two
rules are not expressible in the schema and stay in the validators: the sign
of a movement's quantity depends on its reason, and an integer written as
``2.0`` is refused although JSON Schema counts it as an integer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ecomarket.central.app import fastapi_of
from ecomarket.central.main import build
from ecomarket.config import Settings
from tests.processes import ADMIN_TOKEN, Running, central_env, start_central

INSTANCE = "central-fuzz"
FUZZ_DB = 11  # a database of the session's private Redis that no other test uses
MAX_EXAMPLES = 12  # per operation, on top of the schema's coverage cases
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Names an error may give besides the operation's own parameters and body fields.
ALWAYS_NAMEABLE = {"Authorization", "body", "method"}
# The central under test runs without a broker (ECOMARKET_CONSUMERS=false), so the
# only operation that needs one answers exactly this, and nothing else may be a 503.
NO_BROKER = ("POST", "/api/v1/dead-letters/{dead_letter_id}/replay", "the broker is not connected")


@pytest.fixture(scope="module")
def fuzzed_central(redis_server: Running, log_dir: Path) -> Iterator[Running]:
    """One central instance on its own Redis database, with a few products to find."""
    url = f"redis://127.0.0.1:{redis_server.port}/{FUZZ_DB}"
    redis.Redis.from_url(url).flushdb()
    env = central_env(url, "amqp://guest:guest@127.0.0.1:1/", INSTANCE)
    env["ECOMARKET_CONSUMERS"] = "false"
    running = start_central(log_dir, env)
    try:
        # Small ids are what the generator tries first: let some of them exist.
        for product_id in (1, 2, 3):
            answer = httpx.put(
                f"{running.url}/api/v1/products/{product_id}",
                json={"name": f"product {product_id}", "price": "1.50"},
                headers=ADMIN,
            )
            answer.raise_for_status()
        yield running
    finally:
        running.stop()
        redis.Redis.from_url(url).flushdb()


@pytest.fixture(scope="module")
def api_schema(fuzzed_central: Running) -> Any:
    """The schema as the instance serves it."""
    return schemathesis.openapi.from_url(f"{fuzzed_central.url}/openapi.json")


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _nameable(case: Any) -> set[str]:
    """Every field name a 4xx answer to this operation may rightly name."""
    spec: dict[str, Any] = case.operation.schema.raw_schema
    operation = spec["paths"][case.operation.path][case.method.lower()]
    names = {parameter["name"] for parameter in operation.get("parameters", [])}
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        names |= set(_resolve(spec, media.get("schema", {})).get("properties", {}))
    if isinstance(case.body, dict):
        names |= set(case.body)  # an unknown field is refused by its own name
    return names | ALWAYS_NAMEABLE


def served_by(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every answer, errors included, names the instance that gave it."""
    assert response.headers.get("x-served-by") == [INSTANCE], (
        f"X-Served-By is {response.headers.get('x-served-by')!r}, not {INSTANCE!r}"
    )
    return None


def names_the_field(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx says which field is wrong, and it is a field of this operation."""
    if not 400 <= response.status_code < 500:
        return None
    detail = response.json()["detail"]
    nameable = _nameable(case)
    if isinstance(detail, list):
        assert detail, "a 4xx with an empty list of problems"
        named = [problem["field"] for problem in detail]
    else:
        assert isinstance(detail, str) and ": " in detail, f"detail names no field: {detail!r}"
        named = [detail.split(": ", 1)[0]]
    for field in named:
        top = str(field).split(".", 1)[0]
        assert top in nameable, f"{field!r} is not a field of {case.operation.label}: {detail!r}"
    return None


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, except the one answer of an operation that needs the absent broker."""
    method, path, detail = NO_BROKER
    if (case.method, case.operation.path) == (method, path) and response.status_code == 503:
        assert response.json() == {"detail": detail}
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    allow_header_conformance,
    served_by,
    names_the_field,
]


def _operations() -> list[tuple[str, str, bool]]:
    """(method, path, takes input) of every operation the central declares.

    Read from the app itself, without starting it, so that each operation is a test
    of its own; the test below checks that the live schema declares the same ones.
    """
    settings = Settings(admin_token=ADMIN_TOKEN, consumers=False)
    spec = fastapi_of(build(settings)).openapi()
    return [
        (method.upper(), path, bool(operation.get("parameters") or operation.get("requestBody")))
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


OPERATIONS = _operations()
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path, takes_input in OPERATIONS
    # An operation without parameters or body has no invalid input to generate.
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if takes_input or mode is GenerationMode.POSITIVE
]


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    """One keep-alive HTTP session for all generated requests."""
    with requests.Session() as http:
        yield http


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    """The live schema declares exactly the operations parametrized below."""
    live = {
        (method.upper(), path)
        for path, operations in api_schema.raw_schema["paths"].items()
        for method in operations
    }
    assert live == {(method, path) for method, path, _ in OPERATIONS}


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_answers_as_its_schema_says(
    api_schema: Any, session: requests.Session, method: str, path: str, mode: GenerationMode
) -> None:
    """Every generated request, valid or not, gets an answer the schema allows."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_declared(case: Any) -> None:
        response = case.call(headers=ADMIN, session=session, timeout=10)
        case.validate_response(response, checks=CHECKS, headers=ADMIN)

    answers_as_declared()


@pytest.mark.parametrize("path", sorted({path for _, path, _ in OPERATIONS}))
def test_undeclared_method_is_refused_naming_it(
    fuzzed_central: Running, api_schema: Any, path: str
) -> None:
    """A method a path does not declare gets 405, the declared methods, and names the method."""
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    answer = httpx.request("OPTIONS", fuzzed_central.url + concrete, headers=ADMIN)
    declared = sorted(method.upper() for method in api_schema.raw_schema["paths"][path])
    assert answer.status_code == 405
    assert sorted(answer.headers["allow"].split(", ")) == declared
    assert answer.headers["x-served-by"] == INSTANCE
    assert answer.json()["detail"].startswith("method: OPTIONS ")
