"""Who is asking: bearer tokens to a :class:`Principal`, and role checks (401/403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from skyfence.api.state import ApiState
from skyfence.api.tokens import Principal, Role, Tokens, allows

bearer = HTTPBearer(auto_error=False, description="a token from TOKENS.yaml")


def state_of(request: Request) -> ApiState:
    state: ApiState = request.app.state.skyfence
    return state


def token_from_header(value: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, else None."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authenticate(tokens: Tokens, token: str | None) -> Principal:
    if token is None:
        raise HTTPException(401, "missing credentials: send 'Authorization: Bearer TOKEN'",
                            headers={"WWW-Authenticate": "Bearer"})
    who = tokens.lookup(token)
    if who is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return who


def require(role: Role) -> Callable[..., Principal]:
    """A dependency: the caller's principal, which must hold at least ``role``."""

    def check(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
              ) -> Principal:
        token = credentials.credentials if credentials else None
        if token is None and "authorization" in request.headers:
            raise HTTPException(401, "malformed Authorization header: expected 'Bearer TOKEN'",
                                headers={"WWW-Authenticate": "Bearer"})
        who = authenticate(state_of(request).tokens, token)
        if not allows(who.role, role):
            raise HTTPException(403, f"this needs the {role} role; the token has {who.role}")
        return who

    return check
