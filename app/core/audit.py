"""Tamper-evident, append-only audit trail.

Every write, every read of a pupil's sensitive data and every denied access adds one
:class:`AuditEntry`: who (user and role), what (:class:`AuditAction`), on what (ids only — never the
sensitive values), when (UTC), from where (IP, request id) and the outcome. Entries form SHA-256 hash
chains, one per school (chain 0 for everything else), serialised through a head row per chain, so an
edited, inserted or deleted entry is detected by :func:`verify` (``flask audit verify``). Pupils' answer
saves, the busiest writes, go to one of :data:`AUDIT_LANES` extra chains of their school ("lanes", see
:func:`chain_for`) so that pupils answering at the same moment do not all queue on one head row. On PostgreSQL
a trigger also refuses UPDATE, DELETE and TRUNCATE of the table (see the migrations).

Writes record their entry in the same transaction as the change. Reads call :func:`record_read`,
which commits at once: if it fails, :class:`AuditUnavailable` becomes a 503 and the data is not shown.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import Integer, String, Text, bindparam, cast, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Prepared, autocommit_connection, autocommit_open, end_autocommit
from app.core.models import utcnow
from app.extensions import Model, db

GENESIS_HASH = "0" * 64


class AuditUnavailable(Exception):
    """The audit entry could not be written, so the data must not be shown or changed."""


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


class AuditAction(enum.StrEnum):
    """Stable names of audited actions (``module:resource:action``). Their words for people are in
    :mod:`app.core.audit_labels` (a test fails for a member without one)."""

    LOGIN_SUCCESS = "auth:login:success"
    LOGIN_FAILED = "auth:login:failed"
    LOCKOUT = "auth:lockout"
    #: A psychologist was locked out while acute alerts were open at the school: the administration was told.
    LOCKOUT_REPORTED = "auth:lockout:reported"
    LOGOUT = "auth:logout"
    #: Signed in with Kundelik (OAuth2); details: the linking rule, Kundelik's roles, whether the token was kept.
    KUNDELIK_SIGN_IN = "auth:kundelik:sign_in"
    #: A Kundelik sign-in that did not end in a session (denied consent, bad state, token refused, unknown person…).
    KUNDELIK_SIGN_IN_FAILED = "auth:kundelik:failed"
    #: An account was linked to a Kundelik user at its first Kundelik sign-in (by a rule of app.kundelik.services).
    KUNDELIK_LINKED = "auth:kundelik:linked"
    #: An administrator set (or removed) the Kundelik person an account belongs to.
    KUNDELIK_LINK_SET = "admin:user:kundelik_link"
    MFA_ENROLLED = "auth:mfa:enrolled"
    MFA_VERIFIED = "auth:mfa:verified"
    MFA_FAILED = "auth:mfa:failed"
    PASSWORD_CHANGED = "auth:password:changed"  # noqa: S105  (an action name, not a password)
    #: A user set or removed their own work phone (shown to school administrators on escalations).
    ACCOUNT_PHONE_CHANGED = "auth:account:phone"
    PASSWORD_CHANGE_REQUIRED = "auth:password:change_required"  # noqa: S105  (an action name, not a password)
    SESSION_EXPIRED = "auth:session:expired"
    ACCESS_DENIED = "access:denied"
    CSRF_FAILED = "security:csrf:failed"
    CRYPTO_INTEGRITY_FAILED = "crypto:integrity:failed"
    KEYS_ROTATED = "crypto:keys:rotated"
    SCHOOL_CREATE = "admin:school:create"
    SCHOOL_UPDATE = "admin:school:update"
    CLASS_CREATE = "admin:class:create"
    CLASS_UPDATE = "admin:class:update"
    USER_CREATE = "admin:user:create"
    USER_UPDATE = "admin:user:update"
    USER_DISABLE = "admin:user:disable"
    USER_ENABLE = "admin:user:enable"
    ROLE_GRANT = "admin:role:grant"
    ROLE_REVOKE = "admin:role:revoke"
    PUPIL_CREATE = "pupil:record:create"
    PUPIL_UPDATE = "pupil:record:update"
    PUPIL_READ = "pupil:record:read"
    PUPIL_LIST = "pupil:record:list"
    PUPIL_SEARCH = "pupil:record:search"
    PUPIL_ACCESS_LOG_READ = "pupil:access_log:read"
    GUARDIAN_LINK = "pupil:guardian:link"
    AUDIT_LOG_READ = "audit:log:read"
    CLASS_FLAGS_READ = "class:flags:read"
    PARENT_CHILD_READ = "parents:child:read"
    PUPIL_SELF_READ = "pupil:self:read"
    REPORT_READ = "reports:aggregate:read"
    DEMO_CREATED = "demo:data:create"
    PASSWORD_RESET = "admin:user:password_reset"  # noqa: S105  (an action name, not a password)
    MFA_RESET = "admin:user:mfa_reset"
    REGION_CREATE = "admin:region:create"
    DISTRICT_CREATE = "admin:district:create"
    AUDIT_VERIFY = "audit:log:verify"
    CONSENT_GIVEN = "consent:record:given"
    CONSENT_WITHDRAWN = "consent:record:withdrawn"
    CAMPAIGN_CREATE = "screening:campaign:create"
    CAMPAIGN_READ = "screening:campaign:read"
    SCREENING_CODES_ISSUED = "screening:session:codes_issued"
    SCREENING_CODES_PRINTED = "screening:session:codes_printed"
    SCREENING_CODE_FAILED = "screening:session:code_failed"
    SCREENING_ANSWER_SAVED = "screening:session:answer_saved"
    SCREENING_SUBMIT = "screening:result:submit"
    SCREENING_RESULT_READ = "screening:result:read"
    SCREENING_RESULT_EXPORT = "screening:result:export"
    ALERT_RAISED = "screening:alert:raised"
    #: A later, more severe rule of the same sitting raised the severity of an open alert.
    ALERT_UPGRADED = "screening:alert:upgraded"
    ALERT_ACKNOWLEDGED = "screening:alert:acknowledged"
    ALERT_RESOLVED = "screening:alert:resolved"
    ALERT_ESCALATED = "screening:alert:escalated"
    ALERT_LIST_READ = "screening:alert:list"
    #: A pupil sent a request for help with the name (an anonymous request writes no entry when sent).
    HELP_REQUEST_SENT = "help:request:sent"
    #: A psychologist first opened the inbox listing an anonymous request for help: the request's first entry
    #: (written then, not when sent, so that no entry sits beside the sender's own; app.help.services).
    HELP_REQUEST_RECEIVED = "help:request:received"
    #: A "ask for help" request was refused by the rate limit (no alert raised).
    HELP_REQUEST_THROTTLED = "help:request:throttled"
    HELP_SERVICE_CREATE = "help:service:create"
    HELP_SERVICE_UPDATE = "help:service:update"
    #: Seminars for parents and staff: scheduled, changed, cancelled (registrants told), materials published,
    #: attendance marked (details: counts), a registration made or cancelled, reminders queued by cron (count).
    SEMINAR_CREATED = "seminars:seminar:create"
    SEMINAR_UPDATED = "seminars:seminar:update"
    SEMINAR_CANCELLED = "seminars:seminar:cancel"
    SEMINAR_MATERIALS_SAVED = "seminars:seminar:materials"
    SEMINAR_ATTENDANCE_MARKED = "seminars:seminar:attendance"
    SEMINAR_REGISTERED = "seminars:registration:create"
    SEMINAR_UNREGISTERED = "seminars:registration:cancel"
    SEMINAR_REMINDERS_QUEUED = "seminars:registration:reminded"
    REAUTH = "auth:reauth"
    CONSENT_READ = "consent:record:read"
    LOCAL_INSTRUMENT_UPLOAD = "screening:local_instrument:upload"
    LOCAL_INSTRUMENT_RETIRE = "screening:local_instrument:retire"
    CLASS_OVERVIEW_READ = "screening:class_overview:read"
    SCREENING_SESSION_CLOSED = "screening:session:closed"
    #: Parental consent ended before the sitting was finished: its code stopped working, its draft was erased.
    SCREENING_SESSION_STOPPED = "screening:session:stopped"
    #: Issuing again replaced a sitting's live code: the old code stopped working.
    SCREENING_CODE_REPLACED = "screening:session:code_replaced"
    #: The issuer opened a batch of printable code cards.
    SCREENING_CODES_VIEWED = "screening:session:codes_viewed"
    #: The codes of unprinted cards were erased after SENIM_CODE_CARDS_KEPT.
    SCREENING_CODES_PURGED = "screening:session:codes_purged"
    #: A rule's launch_instrument started (or continued, or could not start) a follow-up sitting.
    SCREENING_SESSION_LAUNCHED = "screening:session:launched"
    PASSWORD_RESET_REQUESTED = "auth:password_reset:requested"  # noqa: S105  (an action name, not a password)
    PASSWORD_RESET_COMPLETED = "auth:password_reset:completed"  # noqa: S105  (an action name, not a password)
    PASSWORD_RESET_REFUSED = "auth:password_reset:refused"  # noqa: S105  (an action name, not a password)
    #: A roster file was uploaded and kept (encrypted) for its preview; details: counts only.
    ROSTER_UPLOAD = "roster:import:upload"
    #: The preview of a roster file was shown (it names pupils of the school); details: counts only.
    ROSTER_PREVIEW = "roster:import:preview"
    #: A roster file was applied: one entry for the whole import, details: counts only.
    ROSTER_IMPORT = "roster:import:commit"
    #: The school's roster was downloaded in the template's format.
    ROSTER_EXPORT = "roster:export"
    #: A roster sync from Kundelik was written: one entry per school and run; details: counts, account ids of
    #: class-teacher roles granted or revoked, never a name.
    KUNDELIK_SYNC = "roster:kundelik:sync"
    #: A roster sync from Kundelik stopped and wrote nothing; details: the reason.
    KUNDELIK_SYNC_FAILED = "roster:kundelik:failed"
    #: The report of a sync run was opened (it names the pupils moved, left or to be checked).
    KUNDELIK_SYNC_REPORT = "roster:kundelik:report"
    # Monitoring: every entry names the pupil (for "who viewed this record"), never a risk level, reason or note.
    CASE_OPENED = "monitoring:case:open"
    CASE_READ = "monitoring:case:read"
    CASE_LIST_READ = "monitoring:case:list"
    CASE_RISK_CHANGED = "monitoring:case:risk"
    CASE_STATUS_CHANGED = "monitoring:case:status"
    CASE_REVIEW_DATE_SET = "monitoring:case:review_date"
    CASE_MEMBER_ADDED = "monitoring:case:member_added"
    CASE_MEMBER_REMOVED = "monitoring:case:member_removed"
    CASE_NOTE_ADDED = "monitoring:case:note"
    CASE_ALERT_LINKED = "monitoring:case:alert_linked"
    #: A stale form was refused (someone else changed the record first); nothing was changed.
    EDIT_CONFLICT = "monitoring:edit:conflict"
    REGISTRY_READ = "monitoring:registry:read"
    REGISTRY_CREATE = "monitoring:registry:create"
    REGISTRY_UPDATE = "monitoring:registry:update"
    REGISTRY_DEREGISTER = "monitoring:registry:deregister"
    REFERRAL_CREATED = "monitoring:referral:create"
    REFERRAL_UPDATED = "monitoring:referral:update"
    #: A step of the inter-agency algorithm on a case was ticked off.
    CASE_STEP_DONE = "monitoring:step:done"
    #: A case transfer to another school: proposed, read in the receiving school's inbox, accepted, declined
    #: (each written in both schools' chains, except the inbox read: the receiving school's).
    TRANSFER_PROPOSED = "monitoring:transfer:propose"
    TRANSFER_LIST_READ = "monitoring:transfer:list"
    TRANSFER_ACCEPTED = "monitoring:transfer:accept"
    TRANSFER_DECLINED = "monitoring:transfer:decline"
    SAFETY_PLAN_READ = "monitoring:safety_plan:read"
    SAFETY_PLAN_SAVED = "monitoring:safety_plan:save"
    SAFETY_PLAN_PRINTED = "monitoring:safety_plan:print"
    SUPPORT_PLAN_READ = "monitoring:support_plan:read"
    SUPPORT_ACTION_ADDED = "monitoring:support_plan:action_add"
    SUPPORT_ACTION_UPDATED = "monitoring:support_plan:action_update"
    PLAN_REVIEWED = "monitoring:plan:review"
    FOLLOWUP_RECORDED = "monitoring:followup:record"
    FOLLOWUP_INTERVAL_SET = "monitoring:followup:interval"
    FOLLOWUP_DASHBOARD_READ = "monitoring:followup:dashboard"
    PARENT_CONTACT_RECORDED = "monitoring:parent_contact:record"
    CHRONOLOGY_READ = "monitoring:chronology:read"
    #: Break-the-glass: someone outside the case took emergency access (reason and code given), or was refused.
    CASE_EMERGENCY_ACCESS = "monitoring:case:emergency_access"
    #: The owner or the school administrator marked an emergency access as justified or not.
    CASE_EMERGENCY_REVIEWED = "monitoring:case:emergency_reviewed"
    CASE_EMERGENCY_QUEUE_READ = "monitoring:case:emergency_queue"
    CASE_ATTACHMENT_ADDED = "monitoring:case:attachment_added"
    CASE_ATTACHMENT_DOWNLOADED = "monitoring:case:attachment_download"
    GUIDANCE_CREATED = "guidance:article:create"
    #: A new version of a guidance article was saved (every edit is a version).
    GUIDANCE_EDITED = "guidance:article:edit"
    GUIDANCE_SUBMITTED = "guidance:article:submit"
    GUIDANCE_PUBLISHED = "guidance:article:publish"
    GUIDANCE_RETURNED = "guidance:article:return"
    GUIDANCE_ARCHIVED = "guidance:article:archive"
    GUIDANCE_RESTORED = "guidance:article:restore"
    #: Content files of the repository loaded as national articles (``flask guidance import-content``).
    GUIDANCE_IMPORTED = "guidance:content:import"
    GUIDANCE_RECOMMENDED = "guidance:article:recommend"
    MEETING_REQUESTED = "parents:meeting:request"
    #: A parent's request for a meeting refused: too many requests in a day.
    MEETING_THROTTLED = "parents:meeting:throttled"
    MEETING_LIST_READ = "parents:meeting:list"
    MEETING_READ = "parents:meeting:read"
    MEETING_SCHEDULED = "parents:meeting:schedule"
    MEETING_DECLINED = "parents:meeting:decline"
    MEETING_CANCELLED = "parents:meeting:cancel"
    #: The parent accepted the time the psychologist proposed: the meeting is confirmed.
    MEETING_ACCEPTED = "parents:meeting:accept"
    #: The parent asked for another time (with an optional message, encrypted): back to the psychologist.
    MEETING_OTHER_TIME = "parents:meeting:other_time"
    SUMMARY_SAVED = "parents:summary:save"
    SUMMARY_RELEASED = "parents:summary:release"
    SUMMARY_WITHDRAWN = "parents:summary:withdraw"
    SUMMARY_LIST_READ = "parents:summary:list"
    #: The sending side withdrew a transfer before it was answered (written in both schools' chains).
    TRANSFER_WITHDRAWN = "monitoring:transfer:withdraw"
    #: The case owner or the school administrator ended someone's emergency access before it ran out.
    CASE_EMERGENCY_REVOKED = "monitoring:case:emergency_revoked"


class AuditEntry(Model):
    """One audit entry. Append-only: never updated or deleted by the application."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Which hash chain (the school id; 0 for entries outside a school; negative: a lane, see chain_for).
    chain_id: Mapped[int] = mapped_column(Integer, index=True)
    #: Position in that chain, from 1, without gaps.
    chain_seq: Mapped[int]
    at: Mapped[datetime]
    actor_id: Mapped[int | None]
    actor_role: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[int | None]
    #: The pupil concerned (an id only), for the "who viewed this record" view.
    pupil_id: Mapped[int | None] = mapped_column(index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(32))
    #: JSON of ids and codes only, never personal data.
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEntry {self.chain_id}:{self.chain_seq}>"


class AuditChainHead(Model):
    """The newest entry of each chain; updating it serialises writers of one chain."""

    __tablename__ = "audit_chain_heads"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    #: The hash before ``last_hash``: written by the same UPDATE that moves the head, so that its RETURNING
    #: gives the new entry its ``prev_hash`` (RETURNING sees only new values).
    prev_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


#: The fields an entry's content hash covers: all but its place in the chain (chain_seq, prev_hash),
#: which the link hash adds.
_CONTENT_FIELDS = (
    "chain_id", "at", "actor_id", "actor_role", "action", "outcome", "school_id",
    "pupil_id", "object_type", "object_id", "ip", "request_id", "details",
)


def content_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's content fields (``at`` as UTC ISO text)."""
    canonical = {}
    for name in _CONTENT_FIELDS:
        value = values.get(name)
        if isinstance(value, datetime):
            value = value.isoformat(timespec="microseconds")
        canonical[name] = value
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, chain_seq: int, content: str) -> str:
    """An entry's ``row_hash``: SHA-256 of "previous hash|position|content hash" (ASCII).

    PostgreSQL computes the same value in the statement that appends the entry (_append_statement); both
    must stay byte-for-byte equal, which tests/core/test_audit_hashing.py checks on both databases.
    """
    return hashlib.sha256(f"{prev_hash}|{chain_seq}|{content}".encode("ascii")).hexdigest()


def entry_hash(values: Mapping[str, Any]) -> str:
    """The ``row_hash`` an entry with these field values must have."""
    return link_hash(values["prev_hash"], values["chain_seq"], content_hash(values))


def _role_label(actor: Any) -> str | None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return ",".join(sorted(str(r) for r in actor.roles)) or None


def _request_meta() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    return request.remote_addr, g.get("request_id")


# Prepared once: building and cache-keying these statements for every entry cost more CPU than running
# them. Core statements do not autoflush, so record() flushes first: pending changes of the caller reach
# the database before the chain head is locked, and the lock is held only by the statements below.
_HEADS = AuditChainHead.__table__
_H = _HEADS.c
_ENTRIES = AuditEntry.__table__
_NEW_HEAD = {
    name: dialect_insert(_HEADS).values(chain_id=bindparam("head_chain"), seq=0, last_hash=GENESIS_HASH,
                                        prev_hash=GENESIS_HASH).on_conflict_do_nothing()
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}

# PostgreSQL: one statement locks the head, moves it (link hash computed by the server: sha256() is built
# in since PostgreSQL 11) and inserts the entry, so an audited write costs one round trip more than the
# write itself; with ``together`` (see record()) not even that.
_NEXT_SEQ = _H.seq + 1
_LINK = func.encode(func.sha256(func.convert_to(
    _H.last_hash + "|" + cast(_NEXT_SEQ, String) + "|" + bindparam("content_hash", type_=String), "UTF8")), "hex")
_HEAD_EXISTS = exists(select(literal(1)).select_from(_HEADS).where(_H.chain_id == bindparam("head_chain")))


def _count(cte: Any) -> Any:
    return select(func.count()).select_from(cte).scalar_subquery()


def _append_statement(together: Any = None) -> Any:
    """The one statement that appends an entry; returns (entries added, rows changed by ``together``,
    whether the chain's head row exists).

    With ``together`` (an UPDATE) the change comes first and the head moves only if it changed a row:
    an entry is never written for a change that did not happen, and on a chain without a head row yet
    nothing at all is changed (its own WHERE requires the head), so the statement can simply run again
    once the head exists. Lock order: the changed row, then the head.
    """
    move = update(_HEADS).where(_H.chain_id == bindparam("head_chain"))
    changed: Any = literal(None)
    if together is not None:
        done = together.where(_HEAD_EXISTS).returning(literal(1)).cte("together")
        move = move.where(exists(select(literal(1)).select_from(done)))
        changed = _count(done)
    moved = (move.values(seq=_NEXT_SEQ, prev_hash=_H.last_hash, last_hash=_LINK)
             .returning(_H.seq, _H.prev_hash, _H.last_hash).cte("moved_head"))
    entry = insert(_ENTRIES).from_select(
        [*_CONTENT_FIELDS, "chain_seq", "prev_hash", "row_hash"],
        select(*(bindparam(f"e_{name}", type_=_ENTRIES.c[name].type) for name in _CONTENT_FIELDS),
               moved.c.seq, moved.c.prev_hash, moved.c.last_hash),
    ).returning(_ENTRIES.c.chain_seq).cte("new_entry")
    return Prepared(select(_count(entry), changed, _HEAD_EXISTS))


_APPEND = _append_statement()
_APPEND_TOGETHER: dict[Any, Any] = {}


def _append_together(statement: Any) -> Any:
    """_append_statement(statement), built once per statement."""
    if statement not in _APPEND_TOGETHER:
        _APPEND_TOGETHER[statement] = _append_statement(statement)
    return _APPEND_TOGETHER[statement]


# Other databases (SQLite): lock by moving the head, compute the link here, insert, record the hash.
_LOCK_HEAD = (
    update(_HEADS).where(_H.chain_id == bindparam("head_chain"))
    .values(seq=_NEXT_SEQ, prev_hash=_H.last_hash).returning(_H.seq, _H.prev_hash)
)
_ADD_ENTRY = insert(_ENTRIES).values({name: bindparam(f"e_{name}")
                                      for name in (*_CONTENT_FIELDS, "chain_seq", "prev_hash", "row_hash")})
_SET_HEAD_HASH = update(_HEADS).where(_H.chain_id == bindparam("head_chain")).values(last_hash=bindparam("e_row_hash"))


def _create_head(conn: Connection, chain_id: int) -> None:
    # Two writers may start a chain at once: ON CONFLICT DO NOTHING lets the second wait for the first.
    conn.execute(_NEW_HEAD[conn.dialect.name], {"head_chain": chain_id})


def _append_elsewhere(conn: Connection, params: dict[str, Any], content: str) -> None:
    chain_id = params["head_chain"]
    row = conn.execute(_LOCK_HEAD, {"head_chain": chain_id}).first()
    if row is None:
        _create_head(conn, chain_id)
        row = conn.execute(_LOCK_HEAD, {"head_chain": chain_id}).one()
    seq, prev_hash = row
    params.update(e_chain_seq=seq, e_prev_hash=prev_hash, e_row_hash=link_hash(prev_hash, seq, content))
    conn.execute(_ADD_ENTRY, params)
    conn.execute(_SET_HEAD_HASH, params)


#: Extra chains per school for high-volume writes (pupils' answer saves): each has its own head row.
AUDIT_LANES = 16


def chain_for(school_id: int | None, lane: int | None = None) -> int:
    """The chain of an entry: the school's own (its id; 0 outside a school) or its lane ``lane``.

    Lane ``k`` (0 <= k < AUDIT_LANES) of school ``s`` is chain ``-(s * 100 + k)``, e.g. -703 for school 7,
    lane 3: a number no school chain uses, readable in ``flask audit verify`` output.
    """
    if not school_id:
        return 0
    if lane is None:
        return school_id
    return -(school_id * 100 + lane % AUDIT_LANES)


def record(
    actor: Any,
    action: AuditAction,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    school_id: int | None = None,
    pupil_id: int | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    details: Mapping[str, Any] | None = None,
    lane: int | None = None,
    together: tuple[Any, Mapping[str, Any]] | None = None,
    autocommit: bool = False,
) -> int | None:
    """Add an audit entry to the current transaction (the caller commits with its change).

    ``lane`` (any int, e.g. a session id) puts the entry on one of the school's lane chains instead of
    its own chain; all entries of one transaction should use the same chain, so that two transactions
    never lock two heads in opposite order.

    ``together=(statement, params)``: the change this entry is about, as a prepared Core UPDATE (built
    once; its parameter names must not start with ``e_`` or ``head_``). It runs in the same transaction —
    on PostgreSQL inside the same statement as the entry, saving a round trip on hot paths. Returns
    the number of rows it changed (None without ``together``).

    ``autocommit=True`` (PostgreSQL, no transaction open, this entry and its ``together`` change the only
    writes): that one statement is atomic by itself and runs without BEGIN and COMMIT round trips; the
    caller's ``db.session.commit()`` then sends nothing. Elsewhere it is ignored (a normal transaction).
    """
    chain_id = chain_for(school_id, lane)
    db.session.flush()
    ip, request_id = _request_meta()
    values: dict[str, Any] = {
        "chain_id": chain_id,
        "at": utcnow(),
        "actor_id": actor.id if actor is not None and getattr(actor, "is_authenticated", False) else None,
        "actor_role": _role_label(actor),
        "action": str(action),
        "outcome": str(outcome),
        "school_id": school_id,
        "pupil_id": pupil_id,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "ip": ip,
        "request_id": request_id,
        "details": json.dumps(dict(details or {}), sort_keys=True, ensure_ascii=False),
    }
    content = content_hash(values)
    params = {f"e_{name}": value for name, value in values.items()}
    params.update(head_chain=chain_id, content_hash=content)
    # Core statements on the session's connection: no ORM machinery needed.
    if autocommit and db.engine.dialect.name == "postgresql":
        conn = autocommit_connection()  # the whole write is the one statement below
    elif autocommit_open():
        if not autocommit:
            raise RuntimeError("audit.record() in an autocommit session: call database.end_autocommit() first")
        end_autocommit()  # elsewhere the statements below need a transaction
        conn = db.session.connection()
    else:
        conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        changed = conn.execute(together[0], together[1]).rowcount if together else None
        if changed == 0:
            return 0  # the change matched no row: no entry either
        _append_elsewhere(conn, params, content)
        return changed
    statement = _append_together(together[0]) if together else _APPEND
    if together:
        params.update(together[1])
    appended, changed, head_exists = statement.execute(conn, params).one()
    if not head_exists:  # a new chain (nothing was changed): create its head, then the same statement again
        _create_head(conn, chain_id)
        appended, changed, head_exists = statement.execute(conn, params).one()
    if together is not None and not changed:
        return 0  # the change matched no row: no entry either
    if appended != 1:
        raise AuditUnavailable(str(action))
    return changed


def record_now(actor: Any, action: AuditAction, **kwargs: Any) -> None:
    """Record an entry in a transaction of its own and commit; raise AuditUnavailable on failure."""
    try:
        record(actor, action, **kwargs)
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        raise AuditUnavailable(str(action)) from exc


def record_read(actor: Any, action: AuditAction, **kwargs: Any) -> None:
    """Audit a read of sensitive data before it is shown; no entry, no data."""
    record_now(actor, action, **kwargs)


def record_denied(actor: Any, *, permission: str, object_type: str | None = None,
                  object_id: str | None = None, school_id: int | None = None,
                  pupil_id: int | None = None) -> None:
    """Audit a refused access (403 or out-of-scope 404)."""
    endpoint = request.endpoint if has_request_context() else None
    db.session.rollback()
    record_now(
        actor, AuditAction.ACCESS_DENIED, outcome=Outcome.DENIED, object_type=object_type,
        object_id=object_id, school_id=school_id, pupil_id=pupil_id,
        details={"permission": str(permission), "endpoint": endpoint},
    )


# --- verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """One defect found by :func:`verify`."""

    chain_id: int
    chain_seq: int | None
    entry_id: int | None
    kind: str  # "edited", "missing", "head_mismatch", "checkpoint_mismatch"

    def __str__(self) -> str:
        where = f"chain {self.chain_id}, seq {self.chain_seq}"
        if self.entry_id is not None:
            where += f", entry id {self.entry_id}"
        return f"{self.kind}: {where}"


def _entries(chain_id: int) -> Iterator[AuditEntry]:
    query = (
        select(AuditEntry).where(AuditEntry.chain_id == chain_id)
        .order_by(AuditEntry.chain_seq).execution_options(yield_per=2000)
    )
    yield from db.session.execute(query).scalars()


def verify(checkpoint: Mapping[int, tuple[int, str]] | None = None) -> list[ChainProblem]:
    """Recompute every chain; return the edited, missing or truncated entries (empty if intact)."""
    problems: list[ChainProblem] = []
    heads = {h.chain_id: h for h in db.session.execute(select(AuditChainHead)).scalars()}
    chain_ids = set(heads) | set(db.session.execute(select(AuditEntry.chain_id).distinct()).scalars())
    for chain_id in sorted(chain_ids):
        expected_seq, prev_hash = 1, GENESIS_HASH
        hashes: dict[int, str] = {}
        for entry in _entries(chain_id):
            values = {name: getattr(entry, name) for name in (*_CONTENT_FIELDS, "chain_seq", "prev_hash")}
            if entry.chain_seq != expected_seq:
                problems.append(ChainProblem(chain_id, expected_seq, None, "missing"))
            elif entry.prev_hash != prev_hash or entry_hash(values) != entry.row_hash:
                problems.append(ChainProblem(chain_id, entry.chain_seq, entry.id, "edited"))
            expected_seq, prev_hash = entry.chain_seq + 1, entry.row_hash
            hashes[entry.chain_seq] = entry.row_hash
        head = heads.get(chain_id)
        if head is not None and (head.seq != expected_seq - 1 or head.last_hash != prev_hash):
            problems.append(ChainProblem(chain_id, head.seq, None, "head_mismatch"))
        if checkpoint and chain_id in checkpoint:
            seq, digest = checkpoint[chain_id]
            if hashes.get(seq) != digest:
                problems.append(ChainProblem(chain_id, seq, None, "checkpoint_mismatch"))
    if checkpoint:
        for chain_id in set(checkpoint) - chain_ids:
            problems.append(ChainProblem(chain_id, checkpoint[chain_id][0], None, "checkpoint_mismatch"))
    return problems


def checkpoint() -> dict[int, tuple[int, str]]:
    """The head of every chain, to be kept off this machine and given to :func:`verify` later."""
    return {h.chain_id: (h.seq, h.last_hash) for h in db.session.execute(select(AuditChainHead)).scalars()}


__all__ = [
    "AUDIT_LANES", "AuditAction", "AuditEntry", "AuditUnavailable", "Outcome", "chain_for", "checkpoint",
    "record", "record_denied", "record_now", "record_read", "verify",
]
