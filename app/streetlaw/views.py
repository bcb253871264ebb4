"""Street Law pages (public, the same for every viewer so that a phone may keep them), the web app manifest and
the service worker that keeps the pages of a language on the phone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as WerkzeugResponse

from app.help import services as help_services
from app.streetlaw import content

bp = Blueprint("street_law", __name__, template_folder="templates", url_prefix="/street-law")

#: Static files a Street Law page needs; the service worker keeps them for offline use.
ASSETS = ("css/app.css", "css/streetlaw.css", "js/app.js", "js/streetlaw.js", "js/quick-exit.js",
          "img/favicon.svg", "img/logo.svg", "img/chevron.svg", "img/streetlaw.svg", "img/streetlaw-192.png",
          "img/streetlaw-512.png")
#: The prefix of the offline cache's name; the rest is a hash of the texts, the assets and the worker.
CACHE_PREFIX = "senim-street-law-"
THEME_COLOUR = "#153a5b"


def _language(lang: str) -> str:
    if lang not in content.LANGUAGES or lang not in current_app.config["LANGUAGES"]:
        abort(404)
    return lang


def _national_contacts() -> list[help_services.Contact]:
    """150, 111, 112 (and any other national line) from the help directory: never a region's services, so the
    page is the same for every viewer and may be kept offline."""
    try:
        return help_services.contacts_for(help_services.Place())
    except SQLAlchemyError:
        return list(help_services.BUILT_IN)


def _render(lang: str, template: str, **context: Any) -> str:
    with force_locale(lang):
        return render_template(template, lang=lang, pages=content.load_pages(), contacts=_national_contacts(),
                               theme_colour=THEME_COLOUR, **context)


@bp.route("/")
def index() -> WerkzeugResponse:
    """Street Law in the viewer's language."""
    language = str(get_locale() or "kk")
    return redirect(url_for("street_law.home", lang=language if language in content.LANGUAGES else "kk"))


@bp.route("/<lang>/")
def home(lang: str) -> str:
    return _render(_language(lang), "streetlaw/home.html")


@bp.route("/<lang>/offline")
def offline(lang: str) -> str:
    """What the service worker shows for a page it does not have: the help lines."""
    return _render(_language(lang), "streetlaw/offline.html")


@bp.route("/<lang>/<slug>")
def page(lang: str, slug: str) -> str:
    found = content.page(slug)
    if found is None:
        abort(404)
    return _render(_language(lang), "streetlaw/page.html", page=found, text=found.text(lang))


@bp.route("/<lang>/manifest.webmanifest")
def manifest(lang: str) -> Response:
    """The web app manifest: installs Street Law, opening in ``lang``."""
    lang = _language(lang)
    with force_locale(lang):
        body = {
            "id": url_for("street_law.index"),
            "name": _("Street Law: your rights"),
            "short_name": _("Street Law"),
            "description": _("Your rights and what to do if something is wrong, in plain words. Works without "
                             "internet."),
            "lang": lang,
            "start_url": url_for("street_law.home", lang=lang),
            "scope": url_for("street_law.index"),
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOUR,
            "icons": [
                {"src": url_for("static", filename="img/streetlaw-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": url_for("static", filename="img/streetlaw-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": url_for("static", filename="img/streetlaw.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


def page_urls(lang: str) -> list[str]:
    """Every Street Law address of one language: what the service worker keeps once a page of it is opened."""
    return [url_for("street_law.home", lang=lang), url_for("street_law.offline", lang=lang),
            url_for("street_law.manifest", lang=lang),
            *(url_for("street_law.page", lang=lang, slug=p.slug) for p in content.load_pages())]


def worker_config() -> dict[str, Any]:
    """What the service worker knows: its cache's name, the assets, and the pages of each language."""
    static = Path(current_app.static_folder or "")
    worker = Path(__file__).resolve().parent / "templates" / "streetlaw" / "sw.js"
    languages = [lang for lang in content.LANGUAGES if lang in current_app.config["LANGUAGES"]]
    return {
        "cache": CACHE_PREFIX + content.fingerprint(worker, *(static / a for a in ASSETS)),
        "prefix": CACHE_PREFIX,
        "scope": url_for("street_law.index"),
        "assets": [url_for("static", filename=a) for a in ASSETS],
        "pages": {lang: page_urls(lang) for lang in languages},
        "offline": {lang: url_for("street_law.offline", lang=lang) for lang in languages},
        "home": {lang: url_for("street_law.home", lang=lang) for lang in languages},
    }


@bp.route("/sw.js")
def service_worker() -> Response:
    """The service worker. Served from /street-law/, so its scope can never reach beyond Street Law."""
    body = render_template("streetlaw/sw.js", worker=worker_config())
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"  # the browser checks for a new version on every visit
    return response
