"""Home page, language switch and health check."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, require
from app.core.links import safe_next
from app.core.web import nav_items
from app.extensions import db

bp = Blueprint("core", __name__, template_folder="templates")


@bp.route("/")
@require(Permission.ACCOUNT_SELF)
def index() -> str:
    cards = [item for item in nav_items() if item["url"] != request.path]
    # Whatever has something open (alerts) comes first, so that nobody scrolls past it.
    cards.sort(key=lambda card: not any(c.count for c in card["counts"]()))
    return render_template("core/index.html", cards=cards)


@bp.route("/language", methods=["POST"])
def set_language() -> Response:
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    session["language"] = language
    if current_user.is_authenticated:
        current_user.preferred_language = language
        db.session.commit()
    return redirect(safe_next(request.form.get("next")))


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok"), 200
