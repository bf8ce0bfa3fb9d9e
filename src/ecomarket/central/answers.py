"""What the central answers besides its records: errors, liveness and readiness."""

from __future__ import annotations

from pydantic import BaseModel


class FieldProblem(BaseModel):
    """One refused part of a request: ``field`` is dotted ("lines.0.quantity")."""

    field: str
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """A 422 (or 413) answer: every refused field, each named."""

    detail: list[FieldProblem]


class Problem(BaseModel):
    """Any other error answer: ``detail`` is "<field>: what is wrong"."""

    detail: str


class Health(BaseModel):
    """Answer of ``/healthz``: the process is alive."""

    status: str
    instance: str


class Readiness(BaseModel):
    """Answer of ``/readyz``: each backing service's check, and whether all passed."""

    ready: bool
    checks: dict[str, bool]
