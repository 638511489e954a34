"""The console in a real browser: Debian's Chromium driven headless by Playwright, against the local
runtime started as `make dev` starts it (`python -m local.runtime`, its own process, on a free port).

`make test` installs Chromium (apt) and builds the console first; run by hand without them, these tests
are skipped with the command that provides them. Playwright's own browser builds are never used.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, MARKETER_TOKEN, ROOT
from tests.helpers.runtime_process import start_runtime

CHROMIUM = Path(os.environ.get("ENGAGE_CHROMIUM", "/usr/bin/chromium"))
DIST = ROOT / "console" / "dist" / "index.html"
SCREENSHOTS = ROOT / "docs" / "console"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARKETER = {"authorization": f"Bearer {MARKETER_TOKEN}"}
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: `make browser` (apt-get install chromium)", allow_module_level=True)
if not DIST.exists():
    pytest.skip("console/dist is not built: `make console`", allow_module_level=True)

TEMPLATE = {
    "name": "console_spring_offer",
    "language": "en",
    "category": "marketing",
    "body": "Hi {{1}}, spring picks are in.\nUse code {{2}} for 15% off this week.\nTap Shop now to see them.",
    "buttons": [
        {"type": "url", "text": "Shop now", "url": "https://shop.example/r/{{1}}"},
        {"type": "quick_reply", "text": "Stop promotions", "opt_out": True},
    ],
}
# Twelve German customers, ten of them opted in to marketing, and two British ones without consent. With
# the whole audience in the A/B test, ten recipients put both variants to use (unless 1 in 500 splits).
NAMES = ["Lena Vogel", "Jonas Weber", "Mia Schulz", "Paul Becker", "Lea Wagner", "Finn Hoffmann", "Hanna Richter",
         "Noah Klein", "Lina Neumann", "Elias Schwarz", "Emma Wolf", "Ben Koch"]  # fmt: skip
CUSTOMERS = [
    {"phone": f"+49151200000{i:02d}", "name": name, "marketing_consent": i < 10} for i, name in enumerate(NAMES)
] + [{"phone": f"+4479111234{i:02d}", "name": f"Guest {i}", "marketing_consent": False} for i in range(2)]


@dataclass
class Server:
    url: str
    client: httpx.Client
    process: subprocess.Popen[bytes]
    log: Path

    def drain(self) -> dict[str, Any]:
        response = self.client.post("/_local/drain", params={"max_wait": 2}, timeout=120)
        response.raise_for_status()
        return dict(response.json())

    def set_clock(self, now: datetime) -> None:
        self.client.post("/_local/clock", params={"now": now.strftime("%Y-%m-%dT%H:%M:%SZ")}).raise_for_status()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("runtime") / "runtime.log"
    process, url = start_runtime(log)
    client = httpx.Client(base_url=url, timeout=60)
    try:
        # The story runs inside every German customer's morning send window (10-12 local time).
        start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        server = Server(url, client, process, log)
        server.set_clock(start)
        for customer in CUSTOMERS:
            client.post("/v1/customers", headers=MARKETER, json=customer).raise_for_status()
        client.post("/v1/templates", headers=MARKETER, json=TEMPLATE).raise_for_status()
        server.drain()
        yield server
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Console:
    """A signed-in browser tab, with every console error and page error it met."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base}/app{path}")
        self.page.wait_for_load_state("networkidle")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: Playwright's sync API keeps an event loop running in this thread until it stops, and
    the handlers the next test files run on this worker call asyncio.run (the sender's batch)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser: Any, server: Server, token: str, role: str) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    console = Console(page, server.url)

    def on_console(message: Any) -> None:
        # Chromium logs every 4xx answer itself ("Failed to load resource: ... status of 400"): a rule
        # with a typo, a route this server does not offer (the page then says "not available on this
        # server"). The page shows those to the user; they are not faults. A 5xx is (see below).
        if message.type == "error" and not re.search(r"^Failed to load resource: .*status of 4\d\d", message.text):
            console.errors.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 500:
            console.errors.append(f"{response.status} from {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: console.errors.append(f"page error: {error}"))
    console.open("/")
    page.get_by_label("Role").select_option(role)
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview", level=1).wait_for()
    try:
        yield console
    finally:
        context.close()


@pytest.fixture(scope="module")
def _marketer_tab(browser: Any, server: Server) -> Iterator[Console]:
    yield from _page(browser, server, MARKETER_TOKEN, "marketer")


@pytest.fixture(scope="module")
def _admin_tab(browser: Any, server: Server) -> Iterator[Console]:
    yield from _page(browser, server, ADMIN_TOKEN, "admin")


@pytest.fixture
def marketer(_marketer_tab: Console) -> Console:
    """The marketer's signed-in tab (one per module: signing in once is enough), its errors cleared."""
    _marketer_tab.errors.clear()
    return _marketer_tab


@pytest.fixture
def admin(_admin_tab: Console) -> Console:
    _admin_tab.errors.clear()
    return _admin_tab
