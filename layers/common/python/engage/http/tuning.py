"""/v1/settings: every number a marketer may tune, read by marketers, changed by admins, logged."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from engage import wiring
from engage.core.errors import Invalid
from engage.core.time import utcnow
from engage.http.auth import Admin, Marketer
from engage.http.cursors import seal, unseal
from engage.tuning import settings as tuning

router = APIGatewayHttpRouter()

LOG_SCOPE = "settings/log"


class SettingsOut(BaseModel):
    settings: dict[str, Any]
    ranges: dict[str, list[float]]
    changed: list[dict[str, Any]] | None = None  # on a change: each path, from -> to (empty: nothing changed)


class SettingsLogOut(BaseModel):
    entries: list[dict[str, Any]]
    cursor: str | None


def _query(name: str) -> str | None:
    return (router.current_event.query_string_parameters or {}).get(name)


def _body() -> tuple[dict[str, Any], str | None]:
    """The settings document of a PUT or PATCH, and the optional `reason` kept in the log."""
    data = router.current_event.json_body if router.current_event.body else None
    if not isinstance(data, dict):
        raise Invalid('the body must be a JSON object of settings, e.g. {"sending": {...}}', code="invalid_setting")
    data = dict(data)
    reason = data.pop("reason", None)
    if reason is not None and (not isinstance(reason, str) or not 0 < len(reason) <= 500):
        raise Invalid("reason must be text of 1-500 characters", code="invalid_setting")
    return data, reason


def _out(settings: tuning.Settings, entry: dict[str, Any] | None = None, *, changed: bool = False) -> SettingsOut:
    return SettingsOut(
        settings=tuning.dump(settings),
        ranges=tuning.ranges(),
        changed=(entry or {}).get("changes", []) if changed else None,
    )


def _change(by: str, *, replace: bool) -> SettingsOut:
    body, reason = _body()
    settings, entry = tuning.change(wiring.tuning.settings(), body, by=by, now=utcnow(), replace=replace, reason=reason)
    if entry:
        # This container reads the new values at once; the others within their 60-second caches.
        wiring.delivery.config().forget()
        wiring.tagging.reads().forget_config()
    return _out(settings, entry, changed=True)


@router.get("/v1/settings")
def get_settings(caller: Marketer) -> SettingsOut:
    return _out(tuning.current(wiring.tuning.settings()))


@router.put("/v1/settings")
def replace_settings(caller: Admin) -> SettingsOut:
    """The whole document: anything left out goes back to its default."""
    return _change(caller, replace=True)


@router.patch("/v1/settings")
def update_settings(caller: Admin) -> SettingsOut:
    """Only the values given (nested), e.g. {"sending": {"caps": {"promo_max_per_30_days": 3}}}."""
    return _change(caller, replace=False)


@router.get("/v1/settings/log")
def settings_log(caller: Marketer) -> SettingsLogOut:
    raw = _query("limit") or "50"
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise Invalid("limit must be a whole number from 1 to 200", code="bad_query")
    entries, cursor = wiring.tuning.settings().log(limit=int(raw), cursor=unseal(_query("cursor"), LOG_SCOPE))
    return SettingsLogOut(entries=entries, cursor=seal(cursor, LOG_SCOPE))
