"""Small helpers for the admin tests."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.extensions import db

#: Actions written by reads and sign-ins, not by admin changes.
_NOISE = {AuditAction.LOGIN_SUCCESS, AuditAction.LOGIN_FAILED, AuditAction.MFA_VERIFIED, AuditAction.PUPIL_LIST,
          AuditAction.AUDIT_LOG_READ, AuditAction.PUPIL_READ}


def actions() -> Counter[str]:
    """How many entries of each action the log holds."""
    return Counter(db.session.execute(select(AuditEntry.action)).scalars())


def changes() -> Counter[str]:
    """Entries that record changes or refusals (sign-ins and reads left out)."""
    return Counter({k: v for k, v in actions().items() if k not in _NOISE})


def fresh(obj):
    """Reload ``obj`` from the database (requests share the test's session)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)
