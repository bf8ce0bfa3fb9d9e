"""Dependencies shared by the central's routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response

from ecomarket.central.answers import Problem, ValidationProblem
from ecomarket.central.store import PAGE_LIMIT_MAX, CentralStore, Outcome, Result


async def get_store(request: Request) -> CentralStore:
    """The store of this instance, built once at start-up."""
    store: CentralStore = request.app.state.store
    return store


DEFAULT_PAGE_LIMIT = 50
CURSOR_MAX_DIGITS = 18

Store = Annotated[CentralStore, Depends(get_store)]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX, description="page size")]
Cursor = Annotated[
    str | None,
    Query(
        pattern=rf"^[0-9]{{1,{CURSOR_MAX_DIGITS}}}$", description="next_cursor of the previous page"
    ),
]


_ERRORS: dict[int, tuple[type[Any], str]] = {
    404: (Problem, "the id named in detail is not known"),
    409: (Problem, "the id named in detail was already used for different content"),
    413: (ValidationProblem, "body: larger than the instance's limit"),
    422: (ValidationProblem, "the fields named in detail are refused"),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the error answers a route may give, from ``_ERRORS``."""
    return {code: {"model": _ERRORS[code][0], "description": _ERRORS[code][1]} for code in codes}


# Every write takes a JSON body under the size limit and validates it; the 401 and 403
# of its token are declared by the app for every operation that needs one.
WRITE_ERRORS = errors(413, 422)


def once_responses(model: type[Any], repeat: str, *codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers of an exactly-once write: its 200 repeat, bad input, and ``codes``."""
    repeat_answer = {"model": model, "description": f"{repeat}: the first answer"}
    return {200: repeat_answer, **WRITE_ERRORS, **errors(*codes)}


def json_response(body: str | bytes, status_code: int = 200) -> Response:
    """A response whose JSON is already built (by a Lua script, or stored)."""
    return Response(content=body, status_code=status_code, media_type="application/json")


def problem_response(status_code: int, detail: str) -> Response:
    """An error answer as FastAPI gives it for an ``HTTPException``: ``{"detail": ...}``."""
    return JSONResponse({"detail": detail}, status_code=status_code)


def result_response(result: Result, id_field: str, product_field: str = "product_id") -> Response:
    """The HTTP answer to an exactly-once step: 201 applied, 200 repeat, 404, 409.

    ``product_field`` is where the request names the product, for a 404 to point at.
    It returns its errors instead of raising them, so that the central's fast path,
    which runs outside FastAPI's exception handlers, can send the same answers.
    """
    if result.outcome is Outcome.UNKNOWN_PRODUCT:
        return problem_response(
            status.HTTP_404_NOT_FOUND, f"{product_field}: no product {result.body} in the catalogue"
        )
    if result.outcome is Outcome.CONFLICT:
        return problem_response(
            status.HTTP_409_CONFLICT,
            f"{id_field}: already used for different content; the first is kept",
        )
    code = status.HTTP_201_CREATED if result.is_new else status.HTTP_200_OK
    return json_response(result.body, code)
