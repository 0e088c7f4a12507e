"""The UI's routes on a bare FastAPI app: pages, assets, headers, no path escapes."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from gateway.web import STATIC, mount_web


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    mount_web(app)
    return TestClient(app)


@pytest.mark.parametrize("path", ["/", "/ui", "/ui/", "/ui/meetings/abc", "/ui/admin"])
def test_every_page_path_serves_the_app_with_a_strict_csp(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/static/js/app.js">' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_every_module_and_asset_the_page_loads_is_served(client: TestClient) -> None:
    index = client.get("/").text
    assets = re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', index)
    modules = [p.name for p in (STATIC / "js").glob("*.js")]
    for name in modules:  # every import between modules must resolve to a served file
        for imported in re.findall(r'from "\./([^"]+)"', (STATIC / "js" / name).read_text()):
            assert imported in modules, f"{name} imports missing {imported}"
    for url in [*assets, *(f"/ui/static/js/{m}" for m in modules)]:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == "no-cache"
    assert client.get("/ui/static/js/app.js").headers["content-type"].startswith("text/javascript")


def test_static_files_cannot_escape_their_directory(client: TestClient) -> None:
    for path in ("/ui/static/../__init__.py", "/ui/static/%2e%2e/__init__.py",
                 "/ui/static/js/../../__init__.py"):  # fmt: skip
        r = client.get(path)
        assert "def mount_web" not in r.text, path  # the page or a 404, never the source
    assert client.get("/ui/static/missing.js").status_code == 404


def test_user_text_is_never_parsed_as_html() -> None:
    for path in (STATIC / "js").glob("*.js"):
        source = path.read_text()
        assert "innerHTML" not in source, path.name
        assert "insertAdjacentHTML" not in source, path.name
