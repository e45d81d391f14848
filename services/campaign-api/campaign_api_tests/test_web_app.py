"""The dashboard's static build served under /app/: files, client-side routes, and the API left as it was."""

from __future__ import annotations

from pathlib import Path

from campaign_api.main import create_app
from campaign_api.settings import Settings
from prometheus_client import CollectorRegistry

from campaign_api_tests.factories import assert_error
from campaign_api_tests.test_operations import running, variant

INDEX = '<!doctype html><div id="root"></div><script src="/app/assets/index-abc123.js"></script>'


def fake_build(root: Path) -> Path:
    """A folder shaped like `vite build` output."""
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log('app')")
    return root


async def test_the_build_is_served_under_app_with_a_fallback_for_client_routes(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(variant(settings, web_dist_dir=fake_build(tmp_path / "dist")), registry=CollectorRegistry())
    async with running(app) as client:
        index = await client.get("/app/")
        assert index.status_code == 200
        assert index.text == INDEX
        assert index.headers["cache-control"] == "no-cache"

        for route in ("/app/campaigns", "/app/campaigns/12", "/app/customers/3"):
            page = await client.get(route)
            assert page.status_code == 200, route
            assert page.text == INDEX, route

        asset = await client.get("/app/assets/index-abc123.js")
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]

        assert_error(await client.get("/app/assets/gone.js"), 404, "NOT_FOUND")

        bare = await client.get("/app")
        assert bare.status_code == 308
        assert bare.headers["location"] == "/app/"

        # the API's own routes are untouched (still asking for their key), and the mount is not part of the contract
        assert_error(await client.get("/campaigns"), 401, "UNAUTHENTICATED")
        assert_error(await client.get("/no/such/route"), 404, "NOT_FOUND")
        assert not [path for path in (await client.get("/openapi.json")).json()["paths"] if path.startswith("/app")]


async def test_nothing_is_mounted_without_a_build(settings: Settings, tmp_path: Path) -> None:
    app = create_app(variant(settings, web_dist_dir=tmp_path / "missing"), registry=CollectorRegistry())
    async with running(app) as client:
        assert_error(await client.get("/app/"), 404, "NOT_FOUND")
        assert_error(await client.get("/app/campaigns"), 404, "NOT_FOUND")
        assert (await client.get("/health")).status_code == 200


def test_no_setting_means_no_mount(settings: Settings) -> None:
    app = create_app(variant(settings, web_dist_dir=None), registry=CollectorRegistry())
    assert not [route for route in app.routes if getattr(route, "path", "").startswith("/app")]


async def test_the_fallback_does_not_hide_other_errors(settings: Settings, tmp_path: Path) -> None:
    app = create_app(variant(settings, web_dist_dir=fake_build(tmp_path / "dist")), registry=CollectorRegistry())
    async with running(app) as client:
        response = await client.post("/app/campaigns")
        assert response.status_code == 405
