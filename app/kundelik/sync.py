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
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
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

#: A run still "running" after this long was interrupted (the server stopped): another may start.
STALE_AFTER = timedelta(hours=1)

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


def start_run(*, actor: User | None, school: School, via: str) -> KundelikSyncRun:
    """Record a new run of the school's sync (committed, so its progress can be watched); :class:`AlreadyRunning`
    while another one runs."""
    running = db.session.execute(select(KundelikSyncRun).where(
        KundelikSyncRun.school_id == school.id, KundelikSyncRun.status == RunStatus.RUNNING.value)).scalars().all()
    for other in running:
        if other.started_at > utcnow() - STALE_AFTER:
            raise AlreadyRunning(other)
        other.status, other.error, other.finished_at = RunStatus.FAILED.value, "interrupted", utcnow()
    run = KundelikSyncRun(school_id=school.id, user_id=actor.id if actor else None, via=via)
    db.session.add(run)
    db.session.commit()
    return run


def _progress(run_id: int, echo: Progress | None) -> Progress:
    """Write the run's progress on a connection of its own (committed at once, seen by the page that polls),
    at most twice a second."""
    last = [0.0]

    def step(name: str, done: int, total: int) -> None:
        if echo is not None:
            echo(name, done, total)
        now = time.monotonic()
        if 0 < done < total and now - last[0] < 0.5:
            return
        last[0] = now
        with db.engine.begin() as connection:
            connection.execute(update(KundelikSyncRun).where(KundelikSyncRun.id == run_id)
                               .values(step=name, done=done, total=total))

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
        run = db.session.get_one(KundelikSyncRun, run_id)
        run.status, run.step, run.finished_at = RunStatus.SUCCEEDED.value, "done", utcnow()
        run.report_json = json.dumps(report)
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
    run = db.session.get_one(KundelikSyncRun, run_id)
    run.status, run.error, run.finished_at = RunStatus.FAILED.value, reason, utcnow()
    run.report_json = json.dumps({"problems": problems or []})
    if drop_token_of is not None:
        # Kundelik refused the token: it is no use any more; its owner signs in with Kundelik again.
        db.session.execute(delete(KundelikToken).where(KundelikToken.user_id == drop_token_of))
    audit.record(actor, AuditAction.KUNDELIK_SYNC_FAILED, outcome=Outcome.FAILED, school_id=run.school_id,
                 object_type="kundelik_sync_run", object_id=run.uuid,
                 details={"reason": reason, "problems": len(problems or []), "via": run.via,
                          "token_dropped": drop_token_of is not None})
    db.session.commit()
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
