"""Shared pieces of the monitoring pages: fresh forms, the conflict page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from flask import render_template
from flask_wtf import FlaskForm

from app.monitoring import labels

FormT = TypeVar("FormT", bound=FlaskForm)


def fresh(form_class: type[FormT], prefix: str = "", **data: Any) -> FormT:
    """A form that does not read the request (another form of the same page was posted)."""
    return form_class(formdata=None, prefix=prefix, data=data)


def render_conflict(*, title: str, form: FlaskForm, action: str, back: str, rows: Sequence[tuple[Any, Any, Any]],
                    record: Any) -> tuple[str, int]:
    """The page for a stale form (409): both versions side by side, and the user's values kept in a form that
    saves them over the current version when sent again, so nothing typed is lost."""
    version = form.version  # type: ignore[attr-defined]
    version.data, version.raw_data = record.version, [str(record.version)]  # rendered from raw_data if present
    return render_template("monitoring/conflict.html", title=title, form=form, action=action, back=back, rows=rows,
                           record=record, labels=labels.template_labels()), 409
