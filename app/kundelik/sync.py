"""Roster sync from Kundelik: one school's classes, pupils, parents and class teachers, in one transaction.

:func:`run_sync` reads the school from the API (:mod:`app.kundelik.fetch`) under a kept Kundelik token of a school
administrator or admin, then writes it with the file import's machinery (app.roster: the same row checks, the same
matching by IIN and Kundelik id, the same writer), adds parents and class teachers, stores the run's report and
its audit entry, and commits once. Any error (the API failing mid-way, an expired token, rows Senim refuses)
rolls everything back: the run is recorded as failed with its reason, nothing else is written.

* Pupils are found by their Kundelik person id, then by IIN where Kundelik gives one. A pupil Senim holds
  without a Kundelik id whose name (and birth date) matches is a **may match**: not created, not linked, listed
  for a person to check (put the Kundelik ID in the roster file to link them).
* A pupil known from Kundelik and no longer in any of its classes is marked as left (inactive, with the date):
  never deleted, records kept. Pupils that never came from Kundelik are left alone.
* Classes are found by their Kundelik group id, then by grade and letter in the school year.
* Parents (Kundelik relatives) are parent accounts keyed by their Kundelik person id, linked to their child. A
  parent account already linked to that child (from a roster file) with the same surname and first name is
  taken over (given the person id) rather than doubled.
* A class teacher gets the class teacher role for that class: the only role the sync grants, and one that
  reads no pupil data (issue 9: such roles are granted by an admin). Nobody is granted a role by their own run.
  A class teacher appointed by hand for that class with the same name is taken over the same way.

Running it twice changes nothing the second time ("no changes").

A school has one running run at a time, by a unique index (:func:`start_run`); a run writes a heartbeat with its
progress, and one silent for longer than ``SENIM_KUNDELIK_SYNC_STALE_AFTER`` is marked interrupted by the next
start (:func:`interrupt_stale`). Every write of a run ends in a conditional update of its row (still running?), so
an interrupted run that comes back to life stops or rolls back instead of saving beside its successor.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import RoleAssignment, User
from app.auth.roles import Role
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.models import Pupil, School, utcnow
from app.extensions import db
from app.kundelik import client
from app.kundelik.fetch import read_school
from app.kundelik.models import KundelikToken
from app.kundelik.runs import KundelikSyncRun, RunStatus
from app.kundelik.sync_write import RosterErrors, write_school

Progress = Callable[[str, int, int], None]


class SyncFailed(Exception):
    """The sync stopped; ``reason`` says why (a key of app.kundelik.sync_labels.REASONS)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlreadyRunning(Exception):
    """A sync of this school is running: wait for it."""

    def __init__(self, run: KundelikSyncRun) -> None:
        super().__init__(run.uuid)
        self.run = run


# --- the token and the run ------------------------------------------------------------------------------


def token_owner(*, school: School, username: str | None = None) -> User | None:
    """Whose kept Kundelik token reads the school: ``username``'s, else the school's director's or an admin's
    most recently kept one."""
    query = select(User).join(KundelikToken, KundelikToken.user_id == User.id).where(User.active.is_(True))
    if username is not None:
        return db.session.execute(query.where(User.username == username.strip().lower())).scalar_one_or_none()
    holders = select(RoleAssignment.user_id).where(
        (RoleAssignment.role == Role.ADMIN.value)
        | ((RoleAssignment.role == Role.DIRECTOR.value) & (RoleAssignment.school_id == school.id)))
    return db.session.execute(query.where(User.id.in_(holders)).order_by(KundelikToken.updated_at.desc())
                              ).scalars().first()


def _access_token(owner: User) -> str:
    """The owner's kept access token, refreshed first when it has expired (the new one is kept at once: a
    refresh token works once, whatever happens to the sync)."""
    row = db.session.execute(select(KundelikToken).where(KundelikToken.user_id == owner.id)).scalar_one_or_none()
    if row is None:
        raise SyncFailed("no_token")
    if row.expires_at is not None and row.expires_at <= utcnow() and row.refresh_token:
        fresh = client.refresh(row.refresh_token)
        row.access_token, row.refresh_token = fresh.access_token, fresh.refresh_token
        row.expires_at, row.updated_at = fresh.expires_at, utcnow()
        db.session.commit()
    return str(row.access_token)


def stale_before() -> datetime:
    """Running runs whose heartbeat is older than this were interrupted (``SENIM_KUNDELIK_SYNC_STALE_AFTER``)."""
    return utcnow() - current_app.config["SENIM_KUNDELIK_SYNC_STALE_AFTER"]


def running_run(school_id: int) -> KundelikSyncRun | None:
    """The school's running run, silent or not (the unique index allows one)."""
    return db.session.execute(select(KundelikSyncRun).where(
        KundelikSyncRun.school_id == school_id, KundelikSyncRun.status == RunStatus.RUNNING.value)).scalars().first()


def interrupt_stale(*, school_id: int) -> int:
    """Mark the school's running run interrupted when its heartbeat is too old, audited, committed; how many.

    The update is conditional (still running, still silent): of two callers one marks it, and a run that wakes up
    again finds itself interrupted and writes nothing (:func:`_claim`, :func:`_progress`)."""
    cutoff, marked = stale_before(), 0
    stale = db.session.execute(select(KundelikSyncRun.id, KundelikSyncRun.uuid, KundelikSyncRun.via).where(
        KundelikSyncRun.school_id == school_id, KundelikSyncRun.status == RunStatus.RUNNING.value,
        KundelikSyncRun.heartbeat_at < cutoff)).all()
    for run_id, run_uuid, via in stale:
        if _claim(run_id, RunStatus.INTERRUPTED, extra={"error": "interrupted"}, silent_before=cutoff):
            audit.record(None, AuditAction.KUNDELIK_SYNC_FAILED, outcome=Outcome.FAILED, school_id=school_id,
                         object_type="kundelik_sync_run", object_id=run_uuid,
                         details={"reason": "interrupted", "problems": 0, "via": via, "token_dropped": False})
            marked += 1
    db.session.commit()
    return marked


def _claim(run_id: int, status: RunStatus, *, extra: dict[str, Any] | None = None,
           silent_before: datetime | None = None) -> bool:
    """Finish the run in the open transaction, only if it is still running; False when it is not (another start
    marked it interrupted: then this process must write nothing)."""
    query = update(KundelikSyncRun).where(KundelikSyncRun.id == run_id,
                                          KundelikSyncRun.status == RunStatus.RUNNING.value)
    if silent_before is not None:
        query = query.where(KundelikSyncRun.heartbeat_at < silent_before)
    result = db.session.execute(query.values(status=status.value, finished_at=utcnow(), **(extra or {})),
                                execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0)) == 1


def start_run(*, actor: User | None, school: School, via: str) -> KundelikSyncRun:
    """Record a new run of the school's sync (committed, so its progress can be watched); :class:`AlreadyRunning`
    while another one runs. A run silent for too long is marked interrupted first and blocks nothing.

    The unique index of running runs decides, not this process: of two starts at the same moment (two admins, two
    web workers, the page and cron), one inserts its run and the other's insert fails."""
    for attempt in range(3):
        interrupt_stale(school_id=school.id)
        run = KundelikSyncRun(school_id=school.id, user_id=actor.id if actor else None, via=via)
        db.session.add(run)
        try:
            db.session.commit()
            return run
        except IntegrityError:  # another run of the school holds the index
            db.session.rollback()
            if attempt == 2:
                raise
        other = running_run(school.id)
        if other is not None and other.heartbeat_at >= stale_before():
            raise AlreadyRunning(other)
        # it finished, or fell silent, in between: try again
    raise AssertionError("unreachable")  # pragma: no cover


def _progress(run_id: int, echo: Progress | None) -> Progress:
    """Write the run's progress and heartbeat on a connection of its own (committed at once, seen by the page that
    polls), at most twice a second; :class:`SyncFailed` ("interrupted") when the run was declared interrupted."""
    last = [0.0]

    def step(name: str, done: int, total: int) -> None:
        if echo is not None:
            echo(name, done, total)
        now = time.monotonic()
        if 0 < done < total and now - last[0] < 0.5:
            return
        last[0] = now
        with db.engine.begin() as connection:
            alive = connection.execute(update(KundelikSyncRun).where(
                KundelikSyncRun.id == run_id, KundelikSyncRun.status == RunStatus.RUNNING.value)
                .values(step=name, done=done, total=total, heartbeat_at=utcnow()))
        if alive.rowcount != 1:  # declared interrupted while it was silent: stop, write nothing
            raise SyncFailed("interrupted")

    return step


def run_sync(*, run: KundelikSyncRun, actor: User | None, owner: User | None,
             echo: Progress | None = None) -> KundelikSyncRun:
    """Sync the run's school under ``owner``'s kept token: all of it in one transaction with its audit entry, or,
    on any failure, nothing but the failed run and its audit entry. Returns the finished run."""
    run_id, school = run.id, db.session.get_one(School, run.school_id)
    progress = _progress(run_id, echo)
    try:
        if not school.kundelik_id:
            raise SyncFailed("not_linked")
        if owner is None:
            raise SyncFailed("no_token")
        api = client.KundelikApi(_access_token(owner))
        known = {str(i) for i in db.session.execute(select(Pupil.kundelik_id).where(
            Pupil.kundelik_id.is_not(None))).scalars()}
        data = read_school(api, school.kundelik_id, known=known, progress=progress)
        progress("saving", 0, 1)
        report = write_school(school, data, actor)
        if not _claim(run_id, RunStatus.SUCCEEDED, extra={"step": "done", "heartbeat_at": utcnow(),
                                                          "report_json": json.dumps(report)}):
            raise SyncFailed("interrupted")  # too late: another start took over; the writes are rolled back
        run = db.session.get_one(KundelikSyncRun, run_id)
        audit.record(actor, AuditAction.KUNDELIK_SYNC, school_id=school.id, object_type="kundelik_sync_run",
                     object_id=run.uuid, details={**report["counts"], "changes": report["changes"],
                                                  "school_year": report["school_year"], "via": run.via,
                                                  "token_of": owner.id if owner else None,
                                                  "granted": report["granted"], "revoked": report["revoked"]})
        db.session.commit()
        return run
    except client.KundelikUnauthorized:
        return _failed(run_id, actor, "unauthorized", drop_token_of=owner.id if owner else None)
    except client.KundelikUnavailable:
        return _failed(run_id, actor, "unavailable")
    except client.KundelikError:
        return _failed(run_id, actor, "refused")
    except SyncFailed as failure:
        return _failed(run_id, actor, failure.reason)
    except RosterErrors as errors:
        return _failed(run_id, actor, "roster_errors", problems=errors.problems)
    except IntegrityError:
        # Another change took a Kundelik id or an IIN meanwhile: nothing was written; run it again.
        return _failed(run_id, actor, "conflict")
    except Exception:
        _failed(run_id, actor, "error")
        raise


def _failed(run_id: int, actor: User | None, reason: str, *, problems: list[dict[str, Any]] | None = None,
            drop_token_of: int | None = None) -> KundelikSyncRun:
    """Undo everything the run wrote, record it as failed with its reason, audit, commit."""
    db.session.rollback()
    if drop_token_of is not None:
        # Kundelik refused the token: it is no use any more; its owner signs in with Kundelik again.
        db.session.execute(delete(KundelikToken).where(KundelikToken.user_id == drop_token_of))
    # An interrupted run keeps that status (its audit entry was written when it was marked).
    if reason != "interrupted" and _claim(run_id, RunStatus.FAILED, extra={
            "error": reason, "report_json": json.dumps({"problems": problems or []})}):
        run = db.session.get_one(KundelikSyncRun, run_id)
        audit.record(actor, AuditAction.KUNDELIK_SYNC_FAILED, outcome=Outcome.FAILED, school_id=run.school_id,
                     object_type="kundelik_sync_run", object_id=run.uuid,
                     details={"reason": reason, "problems": len(problems or []), "via": run.via,
                              "token_dropped": drop_token_of is not None})
    db.session.commit()
    run = db.session.get_one(KundelikSyncRun, run_id)
    db.session.refresh(run)
    return run


def run_in_background(app: Flask, run_id: int, actor_id: int, owner_id: int | None) -> threading.Thread:
    """Run :func:`run_sync` in a thread of its own (the admin page watches the run's progress)."""

    def work() -> None:
        with app.app_context():
            try:
                run_sync(run=db.session.get_one(KundelikSyncRun, run_id), actor=db.session.get(User, actor_id),
                         owner=db.session.get(User, owner_id) if owner_id else None)
            except Exception:  # recorded as failed ("error") by run_sync; the traceback goes to the log
                current_app.logger.exception("Kundelik sync run %s failed", run_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"senim-kundelik-sync-{run_id}", daemon=True)
    thread.start()
    return thread
