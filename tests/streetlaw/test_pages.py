"""Street Law pages: public, the same for every viewer, in kk/ru/en, with sources, help lines and the quick exit;
linked from the pupil's page and every footer."""

from __future__ import annotations

import re

import pytest

from app.auth.permissions import PUBLIC_ENDPOINTS
from app.streetlaw import content
from tests.factories import login

SLUGS = [p.slug for p in content.load_pages()]
LANGUAGES = ["kk", "ru", "en"]
SOURCES_HEADING = {"kk": "Дереккөздер", "ru": "Источники", "en": "Sources"}


def test_every_street_law_endpoint_is_public(app):
    endpoints = {name for name in app.view_functions if name.startswith("street_law.")}
    assert endpoints == {"street_law.index", "street_law.home", "street_law.page", "street_law.offline",
                         "street_law.manifest", "street_law.service_worker"}
    assert endpoints <= PUBLIC_ENDPOINTS


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_in_every_language(client, language):
    home = client.get(f"/street-law/{language}/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    for slug in SLUGS:
        page = content.page(slug)
        assert page is not None
        assert f'href="/street-law/{language}/{slug}"' in html
        response = client.get(f"/street-law/{language}/{slug}")
        assert response.status_code == 200, slug
        body = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in body
        assert page.text(language).title in body
        assert SOURCES_HEADING[language] in body  # the sources, shown on the page
        for source in page.sources:
            assert f'href="{source.url}"' in body
        for number in ("150", "111", "112"):
            assert f'href="tel:{number}"' in body, (slug, number)
        assert "data-quick-exit" in body


def test_law_articles_are_cited_on_the_page(client):
    body = client.get("/street-law/ru/rights").get_data(as_text=True)
    assert "Трудовой кодекс, ст. 31" in body and "Уголовный кодекс, ст. 15" in body
    assert "adilet.zan.kz/rus/docs/Z020000345_" in body


def test_unknown_language_or_page_is_404(client):
    assert client.get("/street-law/de/").status_code == 404
    assert client.get("/street-law/ru/no-such-page").status_code == 404


def test_street_law_picks_the_viewers_language(client):
    response = client.get("/street-law/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/street-law/ru/")


def test_a_signed_in_pupil_gets_the_same_page_as_anyone(client, world):
    """Nothing personal on the page, so that a phone may keep it: no name, no menu, no form, no region's lines."""
    anonymous = client.get("/street-law/kk/bullied").get_data(as_text=True)
    login(client, world.pupil1)
    signed_in = client.get("/street-law/kk/bullied").get_data(as_text=True)
    assert signed_in == anonymous
    assert world.p1.first_name not in signed_in
    assert "<form" not in signed_in and "csrf_token" not in signed_in


def test_no_inline_scripts_styles_or_handlers(client):
    body = client.get("/street-law/en/cyberbullied").get_data(as_text=True)
    assert not re.search(r"<script\b(?![^>]*\bsrc=)", body)
    assert not re.search(r"\son[a-z]+=", body) and " style=" not in body


def test_the_pupils_page_and_the_footer_lead_to_street_law(client, world):
    login(client, world.pupil1)
    page = client.get("/me").get_data(as_text=True)
    assert page.count('href="/street-law/"') >= 2  # the card on /me and the footer
    assert 'href="/street-law/"' in client.get("/help").get_data(as_text=True)


def test_ask_for_help_has_the_quick_exit(client):
    body = client.get("/help/ask").get_data(as_text=True)
    assert "data-quick-exit" in body and "/static/js/quick-exit.js" in body


def test_the_quick_exit_leads_to_the_configured_neutral_site(client, app):
    body = client.get("/street-law/en/").get_data(as_text=True)
    assert f'href="{app.config["SENIM_QUICK_EXIT_URL"]}"' in body and 'rel="noreferrer noopener"' in body
    assert app.config["SENIM_QUICK_EXIT_URL"].startswith("https://")
    assert 'aria-describedby="quick-exit-hint"' in body  # says what it does, and that Esc twice does it too
