"""Who is calling: the JWT authorizer's groups, or the local runtime's dev bearer tokens."""

from __future__ import annotations

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
