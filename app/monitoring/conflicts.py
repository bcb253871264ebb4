"""Optimistic locking for monitoring records: a stale form never overwrites someone else's change.

Every editable record has a ``version`` column that SQLAlchemy checks and increments on each UPDATE
(``version_id_col``). A form carries the version it was loaded with; :func:`versioned` refuses a form whose
version is no longer current, and turns the database's own check (a concurrent commit between our read and our
write) into the same :class:`EditConflict`. The view then shows both versions and the submitted values, so
nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.extensions import db


class EditConflict(Exception):
    """Someone changed the record after the form was loaded; nothing was saved."""

    def __init__(self, record: Any) -> None:
        super().__init__(f"{type(record).__name__} changed since the form was loaded")
        self.record = record


def refused(actor: User, record: Any, object_type: str) -> EditConflict:
    """The conflict of a change that lost a race for ``record`` (also the first of a one-per-case record): nothing
    is kept of it, the refusal is audited, and the caller raises the returned :class:`EditConflict`."""
    db.session.rollback()  # the record is expired: its next read shows the current version
    audit.record_now(actor, AuditAction.EDIT_CONFLICT, outcome=Outcome.FAILED, school_id=record.school_id,
                     pupil_id=record.pupil_id, object_type=object_type, object_id=record.uuid,
                     details={"version": record.version})
    return EditConflict(record)


@contextmanager
def versioned(*, actor: User, record: Any, version: int | None, object_type: str) -> Iterator[None]:
    """Run a change of ``record`` made from a form loaded at ``version`` and commit it, or raise
    :class:`EditConflict` (audited, nothing changed) when the record has moved on."""
    if version is None or record.version != version:
        raise refused(actor, record, object_type)
    try:
        yield
        db.session.commit()
    except StaleDataError:
        raise refused(actor, record, object_type) from None
    except Exception:
        db.session.rollback()  # a refused change leaves nothing half-done for a later commit to save
        raise
