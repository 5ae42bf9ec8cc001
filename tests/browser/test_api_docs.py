"""/docs in real Chromium: Swagger UI lists the API's operations, offline, under the app's CSP."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.store("memory")

# A few of the contract's operations (the page lists every one in the OpenAPI document).
OPERATIONS = [("GET", "/api/formats"), ("POST", "/api/sessions"), ("POST", "/api/sessions/{code}/participants"),
              ("GET", "/api/sessions/{code}"), ("POST", "/api/sessions/{code}/commands")]


def test_api_docs_list_the_operations_from_this_server_alone(server, contexts, shots):
    base = server.base_url
    ctx = contexts()
    requested: list[str] = []
    ctx.on("request", lambda request: requested.append(request.url))
    # No way out: anything not asked of this server fails, as it would with no internet.
    ctx.route(re.compile(r"^(?!" + re.escape(base) + r"/)"), lambda route: route.abort())
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(base + "/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".info .title")).to_contain_text("Talking Piece")
    listed = {(block.locator(".opblock-summary-method").inner_text().strip(),
               block.locator(".opblock-summary-path").get_attribute("data-path"))
              for block in page.locator(".opblock").all()}
    operations = [(method.upper(), path) for path, item in httpx.get(base + "/openapi.json").json()["paths"].items()
                  for method in item]
    assert set(OPERATIONS) <= listed
    assert listed == set(operations)

    # It is a working page, not a picture: an operation opens to its parameters and a way to try it.
    page.locator(".opblock-summary", has_text="/api/sessions/{code}/participants").first.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    shots(page, "api-docs")

    assert problems == [], problems
    assert requested and all(url.startswith(base + "/") for url in requested), requested
