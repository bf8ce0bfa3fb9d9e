"""Who may write: the admin token, or a branch's own token for its own branch."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ecomarket.config import Settings

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="Admin token or a branch's own token")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: the admin, or one branch."""

    is_admin: bool
    branch_id: str | None

    def may_write_for(self, branch_id: str) -> bool:
        """Whether this caller may write on behalf of ``branch_id``."""
        return self.is_admin or self.branch_id == branch_id


# Dependencies are coroutines on purpose: FastAPI runs a plain ``def`` dependency
# on a worker thread, a hop per request that costs more than the check itself.


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """Resolve the bearer token to a caller, or answer 401."""
    settings = _settings(request)
    if not settings.admin_token and not settings.branch_tokens:
        logger.warning(
            "write refused: no token is configured; set ECOMARKET_ADMIN_TOKEN "
            "and ECOMARKET_BRANCH_TOKENS ('branch-1:secret1,branch-2:secret2')"
        )
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Authorization: no token is configured on this instance: set ECOMARKET_ADMIN_TOKEN",
        )
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Authorization: missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = resolve_token(settings, credentials.credentials)
    if caller is not None:
        return caller
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Authorization: unknown token",
        headers={"WWW-Authenticate": "Bearer"},
    )


def resolve_token(settings: Settings, token: str) -> Caller | None:
    """The caller a bearer token stands for, or None when no configured token matches."""
    # Compared as bytes: compare_digest refuses text with characters beyond ASCII,
    # and a header may carry any of Latin-1.
    given = token.encode()
    if settings.admin_token and hmac.compare_digest(given, settings.admin_token.encode()):
        return Caller(is_admin=True, branch_id=None)
    for secret, branch in settings.branch_token_map.items():
        if hmac.compare_digest(given, secret.encode()):
            return Caller(is_admin=False, branch_id=branch)
    return None


async def require_admin(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
    """Only the admin token passes."""
    if not caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Authorization: this needs the admin token")
    return caller


def check_branch(caller: Caller, branch_id: str) -> None:
    """Answer 403 unless the caller may write for ``branch_id``."""
    if not caller.may_write_for(branch_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"branch_id: this token belongs to {caller.branch_id!r}, not {branch_id!r}",
        )


AnyCaller = Annotated[Caller, Depends(authenticate)]
Admin = Annotated[Caller, Depends(require_admin)]
