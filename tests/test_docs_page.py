"""/docs works offline: Swagger UI's files come from the installed swagger-ui-py package, served
by Podium, and the UI renders the OpenAPI 3.1 document in Debian's Chromium with no network."""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import served
from tests.web.browser import launch_options, why_no_browser


async def test_the_docs_page_names_only_podiums_own_assets(client: AsyncTestClient) -> None:
    html = (await client.get("/docs/")).text
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/docs/assets/") for u in urls), urls
    for url in urls:
        r = await client.get(url)
        assert r.status_code == 200 and len(r.content) > 1000, url


@pytest.mark.skipif(why_no_browser() is not None, reason=why_no_browser() or "")
async def test_the_docs_render_in_a_browser_without_the_internet(database_url: str) -> None:
    from playwright.async_api import async_playwright

    async with served(database_url) as server, async_playwright() as pw:
        browser = await pw.chromium.launch(**launch_options())
        try:
            page = await browser.new_page()
            outside: list[str] = []

            async def only_podium(route) -> None:  # type: ignore[no-untyped-def]
                if route.request.url.startswith(f"http://127.0.0.1:{server.port}/"):
                    await route.continue_()
                else:  # the machine may have no internet: prove the page needs none
                    outside.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_podium)
            await page.goto(f"http://127.0.0.1:{server.port}/docs/")
            await page.wait_for_selector(".opblock-summary-path", timeout=20_000)
            paths = await page.locator(".opblock-summary-path").all_text_contents()
        finally:
            await browser.close()
    assert outside == []
    assert any("/api/v1/webinars" in p for p in paths) and len(paths) > 50
