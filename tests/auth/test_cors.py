"""Browsers on a tenant's own origins (auth/cors.py): preflights, answers readable only from the
origins the token's tenant names, `Allow` listing every method of a path, the configuration, and
a real browser on another origin."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from podium.app import create_app
from podium.auth.cors import Routes, audience_of
from podium.cli import main
from podium.config import Settings, TenantConfig
from podium.embedded import free_port
from podium.validation import check_origin
from tests.conftest import OTHER, TENANT, auth, served, token_for
from tests.web.browser import launch_options, why_no_browser

APP = "https://app.example.org"
WITH_ORIGINS = TenantConfig(**{**TENANT.model_dump(), "cors_origins": [APP + "/"]})


@pytest.fixture
async def cors_client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    settings = Settings(tenants=[WITH_ORIGINS, OTHER], _env_file=None)  # type: ignore[call-arg]
    async with AsyncTestClient(create_app(settings, database_url)) as c:
        c.headers.update(auth())
        yield c


def test_origins_are_checked_and_written_as_browsers_send_them() -> None:
    assert check_origin("HTTPS://App.Example.org/") == "https://app.example.org"
    assert check_origin("http://localhost:5173") == "http://localhost:5173"
    assert check_origin("*") == "*"
    for bad in ("app.example.org", "ftp://x.org", "https://x.org/path", "https://u:p@x.org",
                "https://x.org?q=1", "https://"):  # fmt: skip
        with pytest.raises(ValueError):
            check_origin(bad)
    assert WITH_ORIGINS.cors_origins == [APP]


def test_the_audience_is_read_from_the_token_without_trusting_it() -> None:
    assert audience_of(f"Bearer {token_for()}", "") == "example.org"
    assert audience_of(None, f"access_token={token_for(OTHER)}") == "other.org"
    assert audience_of("Bearer not-a-jwt", "") is None
    assert audience_of(None, "") is None


def test_every_method_of_a_path() -> None:
    routes = Routes([("/a/{id:str}", {"GET"}), ("/a/{id:str}", {"PUT", "PATCH"}),
                     ("/s/{rest:path}", {"GET"})])  # fmt: skip
    assert routes.methods("/a/1") == ["GET", "OPTIONS", "PATCH", "PUT"]
    assert routes.methods("/s/x/y.js") == ["GET", "OPTIONS"]
    assert routes.methods("/nowhere") is None


async def test_a_preflight_from_a_tenants_origin_passes(cors_client: AsyncTestClient) -> None:
    r = await cors_client.options("/api/v1/webinars/x", headers={
        "Origin": APP, "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type, x-evil",
    })  # fmt: skip
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == APP
    assert r.headers["access-control-allow-methods"] == "GET, OPTIONS, PATCH, PUT"
    assert r.headers["access-control-allow-headers"] == "authorization, content-type"
    assert r.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in r.headers  # never: no cookies
    assert r.headers["allow"] == "GET, OPTIONS, PATCH, PUT"
    other = await cors_client.options("/api/v1/webinars/x", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"})  # fmt: skip
    assert other.status_code == 204 and "access-control-allow-origin" not in other.headers
    assert (await cors_client.options("/nowhere")).status_code == 404
    # The original web client library's labels (`setLabels`) pass, or its calls would be refused.
    labelled = await cors_client.options("/api/v1/rooms/x/events", headers={
        "Origin": APP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers":
            "authorization,content-type,ulms-app-audience,ulms-app-label,ulms-app-version,"
            "ulms-scope"})  # fmt: skip
    assert labelled.headers["access-control-allow-headers"] == (
        "authorization, content-type, ulms-app-audience, ulms-app-label, ulms-app-version, "
        "ulms-scope")  # fmt: skip


async def test_answers_are_readable_only_from_the_token_tenants_origins(
    cors_client: AsyncTestClient,
) -> None:
    r = await cors_client.post(
        "/api/v1/webinars",
        json={"title": "t", "scope": "cors-1", "audience": "example.org"},
        headers={"Origin": APP},
    )
    assert r.status_code == 201 and r.headers["access-control-allow-origin"] == APP
    assert "Retry-After" in r.headers["access-control-expose-headers"]
    assert r.headers["vary"] == "Origin"
    r = await cors_client.get(f"/api/v1/webinars/{r.json()['class_id']}",
                              headers={"Origin": "https://evil.example"})  # fmt: skip
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    # Another tenant's token from this tenant's origin: the browser may not read it.
    r = await cors_client.get("/api/v1/media/servers",
                              headers={"Origin": APP, **auth(OTHER)})  # fmt: skip
    assert "access-control-allow-origin" not in r.headers
    # Entering through a link carries no token: any tenant's origin.
    r = await cors_client.post("/api/v1/join", json={"entry_token": "x.1.y"},
                               headers={"Origin": APP})  # fmt: skip
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == APP


def test_the_cli_sets_a_tenants_origins(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["tenant", "add", "cors.example"]).exit_code == 0
    done = runner.invoke(main, ["tenant", "cors", "cors.example", "https://a.example", "*"])
    assert done.exit_code == 0, done.output
    bad = runner.invoke(main, ["tenant", "cors", "cors.example", "a.example"])
    assert bad.exit_code != 0 and "not an origin" in bad.output
    missing = runner.invoke(main, ["tenant", "cors", "nobody.example", "https://a.example"])
    assert missing.exit_code != 0 and "no tenant" in missing.output


PAGE = """<!doctype html><title>app</title><script>
window.call = async (url, token) => {
  try {
    const r = await fetch(url, {method: "PATCH", headers: {"Authorization": "Bearer " + token,
      "Content-Type": "application/json"}, body: JSON.stringify({"title": "from the app"})});
    return [r.status, (await r.json()).title];
  } catch (e) { return ["refused", String(e)]; }
};
</script>"""


@contextlib.contextmanager
def app_site(port: int) -> Iterator[None]:
    """The tenant's web app: a page on its own loopback origin (another port)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        site.shutdown()
        site.server_close()


@pytest.mark.skipif(why_no_browser() is not None, reason=why_no_browser() or "")
async def test_a_browser_on_the_tenants_origin_calls_and_another_is_refused(
    database_url: str,
) -> None:
    from playwright.async_api import async_playwright

    port = free_port()
    allowed, refused = f"http://127.0.0.1:{port}", f"http://localhost:{port}"
    tenants = json.dumps([{**TENANT.model_dump(), "cors_origins": [allowed]}])
    async with served(database_url, {"PODIUM_TENANTS": tenants}) as server, \
            async_playwright() as pw:  # fmt: skip
        created = await server.http.post("/api/v1/webinars", json={
            "title": "t", "scope": "cors-browser", "audience": "example.org"})  # fmt: skip
        url = f"http://127.0.0.1:{server.port}/api/v1/webinars/{created.json()['class_id']}"
        browser = await pw.chromium.launch(**launch_options())
        answers = {}
        try:
            with app_site(port):
                for origin in (allowed, refused):
                    page = await browser.new_page()
                    await page.goto(f"{origin}/")
                    answers[origin] = await page.evaluate("([u, t]) => window.call(u, t)",
                                                          [url, token_for()])  # fmt: skip
        finally:
            await browser.close()
    assert answers[allowed] == [200, "from the app"]  # the preflight passed, the call worked
    assert answers[refused][0] == "refused"
