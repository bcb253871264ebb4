"""The roster sync's test setting: school S1 is Kundelik's school № 7, its director keeps a Kundelik token."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from sqlalchemy import func, select

from app.auth.models import User
from app.core.audit import AuditAction, AuditEntry
from app.core.demo_people import DEMO_SCHOOL_IDS
from app.core.models import Pupil, PupilGuardian, School
from app.extensions import db
from app.kundelik import sync
from app.kundelik.models import KundelikToken
from app.kundelik.runs import KundelikSyncRun
from kundelik_local import Running
from kundelik_local.server import Grant

SCHOOL_7 = DEMO_SCHOOL_IDS[0]
DIRECTOR_PERSON = 3000000000901
SCOPE = "CommonInfo,EducationalInfo,FriendsAndRelatives"


def keep_token(kundelik: Running, user: User, *, person: int = DIRECTOR_PERSON) -> str:
    """A token the local Kundelik issued to ``person``, kept (encrypted) for ``user`` as a sign-in would."""
    token = secrets.token_urlsafe(16)
    kundelik.local.tokens[token] = Grant(person, kundelik.local.client_id, SCOPE, time.time() + 3600)
    row = KundelikToken(user_id=user.id, scope=SCOPE)
    row.access_token = token
    db.session.add(row)
    db.session.commit()
    return token


def link_school(school: School) -> None:
    school.kundelik_id = SCHOOL_7
    db.session.commit()


def run(school: School, owner: User | None, **kwargs: Any) -> KundelikSyncRun:
    """One sync from the command line's side (no acting user)."""
    started = sync.start_run(actor=None, school=school, via="cli")
    return sync.run_sync(run=started, actor=None, owner=owner, **kwargs)


def count(model: Any) -> int:
    return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


def totals() -> tuple[int, int, int, int]:
    """Pupils, guardian links, accounts, audit entries."""
    return count(Pupil), count(PupilGuardian), count(User), count(AuditEntry)


def entries(action: AuditAction) -> list[dict[str, Any]]:
    rows = db.session.execute(select(AuditEntry).where(AuditEntry.action == action.value)
                              .order_by(AuditEntry.id)).scalars()
    return [json.loads(e.details) if isinstance(e.details, str) else e.details for e in rows]
