"""The one page for a stale form (409), shared by every feature with optimistic locking (monitoring, guidance,
seminars): both versions side by side, and the user's values kept in a form that saves them when sent again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import render_template
from flask_wtf import FlaskForm


def render_conflict(*, title: str, form: FlaskForm, action: str, back: str, rows: Sequence[tuple[Any, Any, Any]],
                    record: Any) -> tuple[str, int]:
    """The conflict page (409). ``rows`` are (label, your value, current value), ``None`` where a side has none;
    ``record`` is what changed (its ``version``, ``updated_by`` and ``updated_at`` are shown). The form's hidden
    ``version`` becomes the current one, so sending the kept values again saves them over the current version and
    nothing typed is lost."""
    version = form.version  # type: ignore[attr-defined]
    version.data, version.raw_data = record.version, [str(record.version)]  # rendered from raw_data if present
    return render_template("_conflict.html", title=title, form=form, action=action, back=back, rows=rows,
                           record=record), 409
