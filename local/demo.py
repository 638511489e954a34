"""`make demo` (`python -m local.demo`): the local runtime on a free port, a scripted story over HTTP.

Each step is a module in `local/demo_steps/` with `def run(demo) -> None`; `Demo` is what a step gets:

- `demo.client`: an httpx.Client on the runtime's base URL; `demo.admin` / `demo.marketer`: bearer headers
- `demo.post_webhook(body)`: a signed `POST /webhook` (WhatsApp's signature over the exact bytes sent)
- `demo.inbound_text(wa_id, text, user_id=, name=)`: a WhatsApp inbound text notification to post
- `demo.drain()`, `demo.schedule(name, now_iso)`, `demo.outbox()`
- `demo.set_clock(now_iso)` moves the runtime's clock; `demo.now()` is the story's clock (moved or real)
- `demo.whatsapp_send(body)`, `demo.text(to, body)`, `demo.whatsapp_faults(rule)`, `demo.whatsapp_behaviour(...)`
- `demo.say(text)`, `demo.expect(condition, message)` (fails the demo with that message)

Exit code 0 when every step ran, 1 with the failing step's message otherwise.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import sys
import time
import warnings
from datetime import UTC, datetime
from typing import Any

import httpx

# Before anything imports engage.core.observability: the story, not the handlers' logs, is the output.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "engage")

from engage.inbound.signature import sign  # noqa: E402
from local import demo_steps  # noqa: E402
from local.fake_whatsapp import inbound_text  # noqa: E402
from local.runtime import LocalRuntime  # noqa: E402


class DemoFailure(AssertionError):
    """A step found the system not doing what the story says."""


class Demo:
    def __init__(self, runtime: LocalRuntime, out: Any = None) -> None:
        self.runtime = runtime
        self.client = httpx.Client(base_url=runtime.url, timeout=120)
        self.admin = runtime.bearer("admin")
        self.marketer = runtime.bearer("marketer")
        self.secrets = runtime.secrets
        self.clock: datetime | None = None  # the moved clock (POST /_local/clock), None: real time
        self.inbound_text = self._inbound_text
        self._out = out or sys.stdout
        self._functions = self.client.get("/_local").json()["functions"]

    # ------------------------------------------------------------------------------ output
    def say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def expect(self, condition: Any, message: str) -> None:
        if not condition:
            raise DemoFailure(message)

    def has_function(self, logical_id: str) -> bool:
        return bool(self._functions.get(logical_id, {}).get("loaded"))

    # ----------------------------------------------------------------------------- webhooks
    def post_webhook(self, body: dict[str, Any]) -> httpx.Response:
        raw = json.dumps(body).encode()
        headers = {
            "content-type": "application/json",
            "x-hub-signature-256": sign(raw, self.secrets["WHATSAPP_APP_SECRET"]),
        }
        return self.client.post("/webhook", content=raw, headers=headers)

    def shop_event(self, wa_id: str, event_id: str, kind: str, when: datetime, data: dict[str, Any]) -> None:
        """POST /v1/events signed like the shop signs it (HMAC of the raw body with EVENTS_WEBHOOK_SECRET)."""
        from engage.inbound.shop_events import SIGNATURE_HEADER, signature

        occurred = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"id": event_id, "type": kind, "occurred_at": occurred, "customer": {"wa_id": wa_id}, "data": data}
        raw = json.dumps(body).encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: signature(self.secrets["EVENTS_WEBHOOK_SECRET"], raw),
        }
        response = self.client.post("/v1/events", content=raw, headers=headers)
        answered = f"POST /v1/events answered {response.status_code}: {response.text}"
        self.expect(response.status_code in (200, 202), answered)

    # ------------------------------------------------------------------------------ runtime
    def drain(self) -> dict[str, Any]:
        response = self.client.post("/_local/drain")
        response.raise_for_status()
        return dict(response.json())

    def schedule(self, name: str, now_iso: str | None = None) -> Any:
        response = self.client.post(f"/_local/schedules/{name}", params={"now": now_iso} if now_iso else None)
        self.expect(response.status_code == 200, f"schedule {name} answered {response.status_code}: {response.text}")
        return response.json()

    def set_clock(self, now_iso: str | None) -> None:
        """Moves the handlers' clock (POST /_local/clock); None goes back to the real time."""
        if now_iso is None:
            self.client.delete("/_local/clock").raise_for_status()
            self.clock = None
        else:
            self.client.post("/_local/clock", params={"now": now_iso}).raise_for_status()
            self.clock = datetime.fromisoformat(now_iso.replace("Z", "+00:00"))

    def now(self) -> datetime:
        """The story's clock: the moved one when a step set it, else the real time."""
        return self.clock or datetime.now(UTC)

    def _inbound_text(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """An inbound text notification stamped with the story's clock (unless a step gives a timestamp)."""
        kwargs.setdefault("timestamp", int(self.now().timestamp()))
        return dict(inbound_text(*args, **kwargs))

    def outbox(self) -> list[dict[str, Any]]:
        return list(self.client.get("/_local/outbox").json()["messages"])

    # ---------------------------------------------------------------------------- WhatsApp
    def text(self, to: str, body: str, callback: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}
        if callback:
            message["biz_opaque_callback_data"] = callback
        return message

    def whatsapp_send(self, body: dict[str, Any]) -> httpx.Response:
        """POSTs straight to the fake Graph API, as the sender function does."""
        url = f"{self.runtime.graph_base}/{self.runtime.phone_number_id}/messages"
        return self.client.post(
            url, json=body, headers={"authorization": f"Bearer {self.secrets['WHATSAPP_ACCESS_TOKEN']}"}
        )

    def whatsapp_faults(self, rule: dict[str, Any] | None) -> None:
        if rule is None:
            self.client.delete("/_local/whatsapp/faults")
        else:
            self.client.post("/_local/whatsapp/faults", json=rule).raise_for_status()

    def whatsapp_behaviour(self, **settings: Any) -> None:
        self.client.post("/_local/whatsapp/behaviour", json=settings).raise_for_status()


def step_names() -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules(demo_steps.__path__) if not m.name.startswith("_"))
    return [n for n in demo_steps.ORDER if n in found] + [n for n in found if n not in demo_steps.ORDER]


def run_steps(demo: Demo, names: list[str]) -> int:
    for name in names:
        module = importlib.import_module(f"local.demo_steps.{name}")
        title = (module.__doc__ or name).strip().splitlines()[0]
        demo.say(f"\n== {name}: {title}")
        started = time.perf_counter()
        try:
            module.run(demo)
        except DemoFailure as failure:
            demo.say(f"\nDEMO FAILED in step {name!r}: {failure}")
            return 1
        except Exception as error:  # a broken step: say which, and how
            demo.say(f"\nDEMO FAILED in step {name!r}: {type(error).__name__}: {error}")
            return 1
        demo.say(f"   ({time.perf_counter() - started:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or step_names()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logging.basicConfig(level=logging.ERROR, format="%(name)s %(levelname)s %(message)s")
    started = time.perf_counter()
    with LocalRuntime(log_level="ERROR") as runtime:
        demo = Demo(runtime)
        missing = [f["folder"] for f in demo._functions.values() if not f["loaded"]]
        demo.say(f"Engage demo on a local runtime at {runtime.url} (embedded moto, fake WhatsApp)")
        if missing:
            demo.say(f"Functions not written yet (their parts are skipped): {', '.join(missing)}")
        code = run_steps(demo, names)
        demo.client.close()
    if code == 0:
        print(f"\nDemo finished in {time.perf_counter() - started:.1f} s.", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
