"""Pupil self-completion: find a session by its one-time code, with per-browser and per-address throttling."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from flask import current_app
from sqlalchemy import bindparam, select

from app.auth.models import FailurePurpose
from app.auth.services import count_failure, failures_since
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.database import Prepared, autocommit_connection, end_autocommit
from app.core.encryption import blind_index
from app.core.models import Pupil, utcnow
from app.extensions import db
from app.screening.campaigns import code_hash
from app.screening.models import Campaign, ScreeningSession, SessionStatus
from app.screening.stopping import ScreeningStopped, consent_lapsed, stop_lapsed


class CodeCompleted(Exception):
    """The code is right but its questionnaire is already finished."""


def _device_key(device: str) -> str:
    return blind_index(device or "-", scope="otc-device").hex()


def code_throttled(*, ip: str, device: str) -> bool:
    """True while this browser, or this address as a whole, has entered too many wrong codes recently.

    Counted apart from staff sign-in failures (a class's typos never pause a teacher's sign-in). A browser has a
    tight limit of its own; an address a generous one, so a class of 30 behind one school NAT can mistype
    freely while guessing stays slow (codes have 8 characters of 31: about 8.5e11 values).
    """
    config = current_app.config
    return (failures_since(FailurePurpose.CODE, key=_device_key(device)) >= config["SENIM_OTC_DEVICE_THRESHOLD"]
            or failures_since(FailurePurpose.CODE, ip=ip) >= config["SENIM_OTC_IP_THRESHOLD"])


def open_by_code(*, code: str, ip: str, device: str) -> ScreeningSession | None:
    """The open session for ``code``, or None (the failure is counted and audited; one generic answer).

    Raises :class:`CodeCompleted` for the code of a finished questionnaire, and
    :class:`~app.screening.stopping.ScreeningStopped` when the pupil's parental consent has been withdrawn or has
    expired (the sitting is stopped; the pupil is told only that the questionnaire is not available).
    """
    if code_throttled(ip=ip, device=device):
        return None
    now = utcnow()
    found = db.session.execute(
        select(ScreeningSession).join(Campaign, Campaign.id == ScreeningSession.campaign_id).where(
            ScreeningSession.code_hash == code_hash(code), Campaign.opens_at <= now)
    ).scalar_one_or_none()
    if found is not None and found.status == SessionStatus.COMPLETED.value:
        raise CodeCompleted(found.id)
    if found is not None and found.status != SessionStatus.EXPIRED.value and found.code_expires_at >= now:
        if consent_lapsed(found):  # consent re-checked whenever a code is entered
            stop_lapsed(found.id)
            raise ScreeningStopped(found.id)
        return found
    count_failure(FailurePurpose.CODE, key=_device_key(device), ip=ip)
    audit.record(None, AuditAction.SCREENING_CODE_FAILED, outcome=Outcome.DENIED)
    db.session.commit()
    return None


_CLOSED = (SessionStatus.COMPLETED.value, SessionStatus.STOPPED.value)


@dataclass(frozen=True)
class OpenSession:
    """What the pupil's answer pages need of a session and its pupil: plain values, no ORM objects.

    Read by one prepared Core query on every answer (the hot path of self-completion, bench/README.md):
    loading and tracking ORM objects cost more CPU than the query itself.
    """

    id: int
    uuid: str
    campaign_id: int
    instrument_ref: str
    language: str | None
    status: str
    draft_ct: bytes | None
    code_expires_at: datetime
    pupil_id: int
    school_id: int
    birth_date: date

    @cached_property
    def draft(self) -> dict[str, int | None]:
        """Draft answers so far (item id → option value), decrypted once. Copy it before changing it."""
        if self.draft_ct is None:
            return {}
        return json.loads(ScreeningSession.draft_json.decrypt_for(self.uuid, self.draft_ct))

    def is_open(self, now: datetime) -> bool:
        return self.status not in _CLOSED and self.code_expires_at >= now

    @classmethod
    def of(cls, session: ScreeningSession) -> OpenSession:
        """The same values taken from a loaded ORM object (whether or not it is still open)."""
        return cls(session.id, session.uuid, session.campaign_id, session.instrument_ref, session.language,
                   session.status, session.draft_ct, session.code_expires_at, session.pupil_id,
                   session.pupil.school_id, session.pupil.birth_date)


_S = ScreeningSession.__table__.c
_P = Pupil.__table__.c
#: Built once with a bind parameter: its construction and cache key cost more than running it.
_SESSION_BY_UUID = Prepared(
    select(_S.id, _S.uuid, _S.campaign_id, _S.instrument_ref, _S.language, _S.status, _S.draft_ct,
           _S.code_expires_at, _S.pupil_id, _P.school_id, _P.birth_date)
    .join_from(ScreeningSession.__table__, Pupil.__table__, _P.id == _S.pupil_id)
    .where(_S.uuid == bindparam("session_uuid"))
)


def session_by_uuid(session_uuid: str | None) -> OpenSession | None:
    """The still-open session whose uuid the pupil's cookie holds; ScreeningStopped if consent stopped it."""
    if not session_uuid:
        return None
    # A Core statement on the session's connection: none of the ORM's execution machinery. A pupil's page
    # starts here, outside any transaction: the read needs none (no BEGIN/COMMIT round trips). Writers
    # end that autocommit read first (load() does; save_answer may use it for its single statement).
    row = _SESSION_BY_UUID.execute(autocommit_connection(), {"session_uuid": session_uuid}).first()
    if row is None:
        return None
    found = OpenSession(*row)
    if found.status == SessionStatus.STOPPED.value:
        raise ScreeningStopped(found.id)
    return found if found.is_open(utcnow()) else None


def load(found: OpenSession) -> ScreeningSession:
    """The ORM object of an open session, in a real transaction (for changes: language, submission)."""
    end_autocommit()
    return db.session.get_one(ScreeningSession, found.id)


def choose_language(*, session: OpenSession, language: str) -> None:
    """Record the language of the texts the pupil answers in."""
    load(session).language = language
    db.session.commit()


#: The cookie key that holds the pupil's current sitting (uuid); app.help reads it to know who is writing.
SESSION_KEY = "senim_screening"
#: How long after finishing a questionnaire the browser still counts as that pupil's for "ask for help".
_RECENT = 2 * 60 * 60


def pupil_of_sitting(session_uuid: str | None) -> Pupil | None:
    """The pupil whose sitting this browser holds, if it is open or was finished within the last two hours.

    Used by "ask for help" to offer sending the message with the pupil's name (never without asking). A
    browser left for longer (a shared school computer) no longer speaks for that pupil.
    """
    if not session_uuid:
        return None
    sitting = db.session.execute(select(ScreeningSession).where(ScreeningSession.uuid == str(session_uuid))
                                 ).scalar_one_or_none()
    if sitting is None or sitting.status in (SessionStatus.STOPPED.value, SessionStatus.EXPIRED.value):
        return None
    now = utcnow()
    if sitting.status == SessionStatus.COMPLETED.value:
        if sitting.completed_at is None or (now - sitting.completed_at).total_seconds() > _RECENT:
            return None
    elif sitting.code_expires_at < now:
        return None
    return sitting.pupil


def school_place_of_sitting(session_uuid: str | None) -> tuple[int, int] | None:
    """(region id, district id) of the school of the sitting this browser holds: one query, no pupil data."""
    if not session_uuid:
        return None
    from app.core.models import District, School

    row = db.session.execute(
        select(District.region_id, District.id).join(School, School.district_id == District.id)
        .join(ScreeningSession, ScreeningSession.school_id == School.id)
        .where(ScreeningSession.uuid == str(session_uuid))).first()
    return (int(row[0]), int(row[1])) if row is not None else None
