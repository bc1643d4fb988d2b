"""Browser tests: a live uvicorn server on the test database, real Chromium (Playwright) and
axe-core on every page the browser shows.

Territories are served on ``*.localhost`` host names, which Chromium resolves to loopback by
itself. Every document the browser loads must be checked with ``axe.check(page)`` (or the test fails
at teardown), so that no page escapes the accessibility audit.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Route

from tests.factories import Factory

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Chromium (apt-get install chromium) to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Each test builds its own addresses from the live server (and this keeps the plugin's
    fallback fixture, written as an instance method that pytest deprecates, out of the run)."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # bypass_csp lets the test inject axe-core despite the strict Content-Security-Policy.
    return {**browser_context_args, "locale": "fr-FR", "bypass_csp": True}


def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Runs a call in a plain thread: Playwright's sync API keeps an asyncio loop running in the
    test thread, and some libraries (email-normalize) call asyncio.run(), which refuses that."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    port: int

    def url(self, path: str = "/", town: str = "loos") -> str:
        return f"http://{town}.localhost:{self.port}{path}"


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    yield LiveServer(port)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def towns(factory: Factory) -> dict[str, int]:
    """Two towns on one deployment, each on its own host name."""
    return {
        "loos": factory.territory(slug="loos", name="Loos-en-Gohelle", host="loos.localhost", insee="62528"),
        "malaunay": factory.territory(
            slug="malaunay", name="Malaunay", host="malaunay.localhost", insee="76402", population=6000, electors=4500
        ),
    }


def _describe(violations: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


def _document(url: str) -> str:
    """A page's address without its fragment: following #contenu shows no new document."""
    return url.split("#", 1)[0]


AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: tags, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary})),
  }));
}"""


@dataclass
class AxeAudit:
    """Runs axe-core and remembers the documents each page loaded and the ones it checked.

    A page without JavaScript cannot run axe-core: its HTML is then replayed, at the same
    address (so that the style sheets load), in a page of a JavaScript-enabled context.
    """

    browser: Browser
    context_args: dict[str, Any]
    loaded: list[tuple[Page, str]] = field(default_factory=list)
    checked: set[tuple[int, str]] = field(default_factory=set)
    without_js: set[int] = field(default_factory=set)
    contexts: list[BrowserContext] = field(default_factory=list)
    _replay: Page | None = None

    def watch(self, page: Page, *, javascript: bool = True) -> Page:
        def on_navigated(frame: Frame) -> None:
            if frame == page.main_frame and not frame.url.startswith("about:"):
                self.loaded.append((page, _document(frame.url)))

        page.on("framenavigated", on_navigated)
        page.set_default_timeout(10_000)
        if not javascript:
            self.without_js.add(id(page))
        return page

    def new_page(self, *, javascript: bool = True) -> Page:
        """A watched page in a new context (its own cookies), optionally with JavaScript off."""
        context = self.browser.new_context(**{**self.context_args, "java_script_enabled": javascript})
        self.contexts.append(context)
        return self.watch(context.new_page(), javascript=javascript)

    def check(self, page: Page, context: str = "") -> None:
        page.wait_for_load_state("load")
        target = self._replayed(page) if id(page) in self.without_js else page
        target.add_script_tag(path=str(AXE_JS))
        violations = target.evaluate(AXE_RUN, AXE_TAGS)
        self.checked.add((id(page), _document(page.url)))
        where = page.url + (f" ({context})" if context else "")
        assert not violations, f"axe-core found accessibility violations on {where}:\n{_describe(violations)}"

    def _replayed(self, page: Page) -> Page:
        if self._replay is None:
            self._replay = self.new_page()
            self.without_js.discard(id(self._replay))
        replay = self._replay
        html = page.content()
        address = _document(page.url)

        def same_address(url: str) -> bool:
            return _document(url) == address

        def serve(route: Route) -> None:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

        replay.route(same_address, serve)
        try:
            replay.goto(address)
        finally:
            replay.unroute(same_address, serve)
        self.checked.add((id(replay), address))
        return replay

    def unchecked(self) -> list[str]:
        return sorted({url for page, url in self.loaded if (id(page), url) not in self.checked})

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def axe(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[AxeAudit]:
    audit = AxeAudit(browser, browser_context_args)
    yield audit
    missing = audit.unchecked()
    audit.close()
    assert not missing, "pages shown by the browser but never checked with axe-core:\n" + json.dumps(missing, indent=2)


@pytest.fixture
def page(context: BrowserContext, axe: AxeAudit) -> Page:
    """pytest-playwright's page, watched so that every loaded document must be axe-checked."""
    return axe.watch(context.new_page())
