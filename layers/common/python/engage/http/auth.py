"""Who is calling: the JWT authorizer's groups, or the local runtime's dev bearer tokens; and the
role each route declares (`Marketer`, `Admin`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from engage.core.errors import Forbidden, Unauthorized

ROLES = ("admin", "marketer")


def caller_groups(event: APIGatewayProxyEventV2) -> set[str]:
    """Groups from `cognito:groups`, which API Gateway hands over as the string "[admin marketer]"."""
    authorizer = event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    raw = claims.get("cognito:groups", "")
    if isinstance(raw, list):
        return {str(g) for g in raw}
    return {g for g in str(raw).strip("[]").replace(",", " ").split() if g}


def caller_name(event: APIGatewayProxyEventV2) -> str:
    authorizer = event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    return str(claims.get("email") or claims.get("username") or claims.get("sub") or "unknown")


def require(event: APIGatewayProxyEventV2, *roles: str) -> str:
    """Raises unless the caller holds one of `roles` (admin may do everything). Returns the caller."""
    groups = caller_groups(event)
    if not groups:
        raise Unauthorized("sign in first: no group claims on this request")
    allowed = set(roles) | {"admin"}
    if not groups & allowed:
        raise Forbidden(f"this needs the {' or '.join(sorted(allowed))} group")
    return caller_name(event)


def _event(request: Request) -> APIGatewayProxyEventV2:
    event = request.resolved_event
    if not isinstance(event, APIGatewayProxyEventV2):  # every resolver here is an HTTP API (v2) resolver
        raise TypeError(f"expected an HTTP API event, got {type(event).__name__}")
    return event


def marketer(request: Request) -> str:
    """The caller, who must be a marketer (or an admin)."""
    return require(_event(request), "marketer")


def admin(request: Request) -> str:
    """The caller, who must be an admin."""
    return require(_event(request), "admin")


# A route declares its role once, as a parameter that is the caller's name:
# `def list_tags(caller: Marketer)`. The resolver reads that declaration into its role table and
# checks it before the body is parsed (engage.http.resolver); Powertools then resolves the name.
Marketer = Annotated[str, Depends(marketer)]
Admin = Annotated[str, Depends(admin)]
