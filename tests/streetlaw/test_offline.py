"""The installable, offline Street Law: the manifest, the service worker (its scope, what it may keep) and the CSP."""

from __future__ import annotations

import json
import re

import pytest

from app.streetlaw import content

PAGE_PATH = re.compile(r"^/street-law/(kk|ru|en)/([a-z-]+|manifest\.webmanifest)?$")


def _fetch(client, url: str) -> tuple[int, str, bytes]:
    """Status, type and body of a file, closing the response (static files stay open otherwise)."""
    response = client.get(url)
    try:
        return response.status_code, response.mimetype, response.data
    finally:
        response.close()


def _worker(client) -> dict:
    script = client.get("/street-law/sw.js").get_data(as_text=True)
    found = re.search(r"^var WORKER = (\{.*\});$", script, re.MULTILINE)
    assert found, "the worker's configuration line"
    return json.loads(found.group(1))


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_manifest_installs_street_law_in_the_pupils_language(client, language):
    response = client.get(f"/street-law/{language}/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == f"/street-law/{language}/"
    assert manifest["scope"] == "/street-law/" and manifest["display"] == "standalone"
    assert manifest["lang"] == language and manifest["name"] and manifest["short_name"]
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        status, mimetype, data = _fetch(client, icon["src"])
        assert status == 200 and mimetype == icon["type"], icon
        if icon["type"] == "image/png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            assert f"{width}x{height}" == icon["sizes"]
    page = client.get(f"/street-law/{language}/").get_data(as_text=True)
    assert f'<link rel="manifest" href="/street-law/{language}/manifest.webmanifest">' in page


def test_the_service_worker_is_javascript_served_from_street_law(client):
    response = client.get("/street-law/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    # Served from /street-law/, the worker's scope can never reach beyond it (no Service-Worker-Allowed header).
    assert "Service-Worker-Allowed" not in response.headers
    page = client.get("/street-law/en/").get_data(as_text=True)
    assert 'data-sw="/street-law/sw.js"' in page and 'data-scope="/street-law/"' in page


def test_the_worker_keeps_only_street_law_pages_and_static_files(client, app):
    worker = _worker(client)
    assert worker["scope"] == "/street-law/"
    assert all(url.startswith("/static/") for url in worker["assets"])
    kept = [url for urls in worker["pages"].values() for url in urls]
    assert kept and all(PAGE_PATH.match(url) for url in kept), kept
    for language, urls in worker["pages"].items():
        assert f"/street-law/{language}/" in urls and f"/street-law/{language}/offline" in urls
        assert {f"/street-law/{language}/{p.slug}" for p in content.load_pages()} <= set(urls)
        assert all(url.startswith(f"/street-law/{language}/") for url in urls)  # one language at a time
    script = client.get("/street-law/sw.js").get_data(as_text=True)
    addresses = set(re.findall(r'"(/[^"]*)"', script)) - {"/"}  # "/" alone: the path separator
    assert addresses and all(a.startswith(("/street-law/", "/static/")) for a in addresses), addresses
    for personal in ("/me", "/help/ask", "/help/sent", "/login", "/account", "/s", "/parents/children"):
        assert f'"{personal}"' not in script, personal
    # Every asset it keeps exists.
    for url in worker["assets"]:
        assert _fetch(client, url)[0] == 200, url


def test_the_worker_never_touches_a_post_or_another_address(client):
    script = client.get("/street-law/sw.js").get_data(as_text=True)
    assert 'if (request.method !== "GET") { return; }' in script
    assert "if (!KNOWN.has(path)) { return; }" in script
    assert "url.origin !== self.location.origin" in script


def test_the_cache_is_versioned_and_old_versions_are_deleted(client):
    worker = _worker(client)
    assert re.fullmatch(r"senim-street-law-[0-9a-f]{12}", worker["cache"])
    assert worker["prefix"] == "senim-street-law-"
    script = client.get("/street-law/sw.js").get_data(as_text=True)
    assert "caches.delete(name)" in script and "name !== WORKER.cache" in script


def test_the_version_follows_the_files(tmp_path):
    first = tmp_path / "a.txt"
    first.write_text("one")
    before = content.fingerprint(first)
    second = tmp_path / "b.txt"
    second.write_text("two")
    assert content.fingerprint(second) != before


def test_the_csp_allows_the_worker_and_the_manifest_from_this_site_only(client):
    csp = client.get("/street-law/en/").headers["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
