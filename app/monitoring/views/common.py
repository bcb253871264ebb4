"""Shared pieces of the monitoring pages: fresh forms (the conflict page is app.core.conflict_page)."""

from __future__ import annotations

from typing import Any, TypeVar

from flask_wtf import FlaskForm

FormT = TypeVar("FormT", bound=FlaskForm)


def fresh(form_class: type[FormT], prefix: str = "", **data: Any) -> FormT:
    """A form that does not read the request (another form of the same page was posted)."""
    return form_class(formdata=None, prefix=prefix, data=data)
