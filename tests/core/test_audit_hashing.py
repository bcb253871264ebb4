"""The audit link hash: the database's and Python's computations agree, under concurrency too, and
migration 0005 re-hashes intact chains only (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.core import audit
from app.core.audit import AuditAction, AuditChainHead, AuditEntry
from app.extensions import db
from app.screening import services
from app.screening.models import Alert
from app.screening.selfservice import OpenSession
from tests.factories import make_school
from tests.migration_support import MIGRATIONS, scratch_app
from tests.screening.workflow_support import campaign, consent, session_with_code


def _fields(entry: AuditEntry) -> dict:
    return {c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns}


def test_stored_hashes_equal_the_python_link_hash(app_ctx: Flask) -> None:
    school = make_school()
    db.session.commit()
    for n in range(3):
        audit.record(None, AuditAction.SCREENING_SESSION_CLOSED, school_id=school.id, details={"n": n, "ж": "ә"})
    db.session.commit()
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.chain_id == school.id)
                                 .order_by(AuditEntry.chain_seq)).scalars().all()
    assert [e.chain_seq for e in entries] == [1, 2, 3]
    prev = audit.GENESIS_HASH
    for entry in entries:
        assert entry.prev_hash == prev
        assert entry.row_hash == audit.link_hash(prev, entry.chain_seq, audit.content_hash(_fields(entry)))
        prev = entry.row_hash
    head = db.session.get(AuditChainHead, school.id)
    assert (head.seq, head.last_hash, head.prev_hash) == (3, entries[-1].row_hash, entries[-2].row_hash)
    assert audit.verify() == []


def test_together_change_is_made_and_counted_in_the_same_transaction(app_ctx: Flask, world) -> None:
    camp = campaign(world.psy1, world.s1, [world.c7a])
    consent(world.p1)
    sess = session_with_code(camp, world.p1, code="LINK-2345", language="ru")
    services.save_answer(session=OpenSession.of(sess), item_id="q1", value=1)
    db.session.expire_all()
    assert sess.draft == {"q1": 1} and sess.status == "in_progress"
    saved = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_ANSWER_SAVED))).scalars().all()
    assert len(saved) == 1 and saved[0].object_id == sess.uuid
    # A session completed meanwhile: the change matches no row, nothing is saved, no entry is added.
    stale = OpenSession.of(sess)
    sess.status = "completed"
    db.session.commit()
    with pytest.raises(services.SessionClosed):
        services.save_answer(session=stale, item_id="q2", value=1)
    db.session.expire_all()
    assert sess.draft == {"q1": 1}
    assert db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_ANSWER_SAVED))).scalars().all() == saved
    assert audit.verify() == []


@pytest.mark.postgres_only
def test_concurrent_writers_on_one_chain_keep_it_intact(app: Flask, app_ctx: Flask) -> None:
    school = make_school()
    db.session.commit()
    school_id, errors = school.id, []

    def writer(n: int) -> None:
        with app.app_context():
            try:
                for k in range(15):
                    audit.record(None, AuditAction.SCREENING_SESSION_CLOSED, school_id=school_id,
                                 details={"writer": n, "k": k})
                    db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.session.get(AuditChainHead, school_id).seq == 90
    assert audit.verify() == []


# --- migration 0005 -----------------------------------------------------------------------------------


def _old_hash(values: dict) -> str:
    """The scheme before 0005: SHA-256 of the canonical JSON of every field incl. chain_seq and prev_hash."""
    names = ("chain_id", "chain_seq", "at", "actor_id", "actor_role", "action", "outcome", "school_id",
             "pupil_id", "object_type", "object_id", "ip", "request_id", "details", "prev_hash")
    canonical = {n: values[n].isoformat(timespec="microseconds") if isinstance(values[n], datetime) else values[n]
                 for n in names}
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@pytest.fixture
def migration_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database of its own (PostgreSQL: a new database on the test server)."""
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        name = f"{url.database}_mig"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        scratch = url.set(database=name).render_as_string(hide_password=False)
    else:
        admin, scratch = None, f"sqlite:///{tmp_path / 'mig.db'}"
    with scratch_app(scratch) as application:
        yield application
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _old_chain(chain_id: int, count: int) -> None:
    """Entries and head of one chain written with the pre-0005 scheme (raw SQL, as the old code did)."""
    prev = audit.GENESIS_HASH
    with db.engine.begin() as conn:
        for seq in range(1, count + 1):
            values = {"chain_id": chain_id, "chain_seq": seq, "at": datetime(2026, 11, seq, 8, 0, 0, 1234, tzinfo=UTC),
                      "actor_id": None, "actor_role": None, "action": "auth:login:success", "outcome": "success",
                      "school_id": None, "pupil_id": None, "object_type": None, "object_id": str(seq),
                      "ip": "127.0.0.1", "request_id": f"r{seq}", "details": '{"n": "ә"}', "prev_hash": prev}
            values["row_hash"] = _old_hash(values)
            stored = dict(values, at=values["at"] if conn.dialect.name == "postgresql"
                          else values["at"].replace(tzinfo=None).isoformat(sep=" "))
            conn.execute(text(
                "INSERT INTO audit_entries (chain_id, chain_seq, at, actor_id, actor_role, action, outcome, school_id, "
                "pupil_id, object_type, object_id, ip, request_id, details, prev_hash, row_hash) VALUES (:chain_id, "
                ":chain_seq, :at, :actor_id, :actor_role, :action, :outcome, :school_id, :pupil_id, :object_type, "
                ":object_id, :ip, :request_id, :details, :prev_hash, :row_hash)"), stored)
            prev = values["row_hash"]
        conn.execute(text("INSERT INTO audit_chain_heads (chain_id, seq, last_hash) VALUES (:c, :s, :h)"),
                     {"c": chain_id, "s": count, "h": prev})


def _old_scheme_holds() -> bool:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_entries ORDER BY chain_id, chain_seq").columns(
            at=AuditEntry.__table__.c.at.type)).mappings().all()
    return all(_old_hash(dict(r)) == r["row_hash"] for r in rows) and bool(rows)


def test_migration_rehashes_intact_chains_both_ways(migration_app: Flask) -> None:
    from flask_migrate import downgrade, upgrade

    with migration_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0004_password_change_required")
        _old_chain(0, 4)
        _old_chain(7, 2)
        upgrade(directory=MIGRATIONS, revision="0005_audit_link_hash")
        assert audit.verify() == []
        head = db.session.get(AuditChainHead, 0)
        assert head.seq == 4 and head.prev_hash != audit.GENESIS_HASH
        audit.record(None, AuditAction.SCREENING_SESSION_CLOSED)  # the chain goes on under the new scheme
        db.session.commit()
        assert audit.verify() == []
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0004_password_change_required")
        assert _old_scheme_holds()


def test_migration_refuses_a_chain_that_does_not_verify(migration_app: Flask) -> None:
    from flask_migrate import upgrade

    with migration_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0004_password_change_required")
        _old_chain(0, 3)
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))  # past the append-only trigger
            conn.execute(text("UPDATE audit_entries SET object_id = 'edited' WHERE chain_seq = 2"))
        with pytest.raises(SystemExit):  # Flask-Migrate logs "audit chain 0 does not verify at seq 2" and exits
            upgrade(directory=MIGRATIONS, revision="0005_audit_link_hash")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == \
                "0004_password_change_required"
            assert "prev_hash" not in {c["name"] for c in inspect(conn).get_columns("audit_chain_heads")}


# --- an answer save without an alert: one statement, atomic by itself --------------------------------------


def _answer_session(world, code: str):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    consent(world.p1)
    sess = session_with_code(camp, world.p1, code=code, language="ru")
    services.save_answer(session=OpenSession.of(sess), item_id="q1", value=0)  # the lane's head now exists
    opened = OpenSession.of(sess)
    db.session.commit()  # as at the start of a pupil's request: no transaction open
    return sess, opened


def test_answer_without_alert_is_one_statement(app_ctx: Flask, world) -> None:
    sess, opened = _answer_session(world, "ONE1-2345")
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        services.save_answer(session=opened, item_id="q2", value=0)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    if db.engine.dialect.name == "postgresql":
        assert seen == ["WITH"]  # draft + head + entry; no BEGIN/COMMIT either (autocommit)
    db.session.expire_all()
    assert sess.draft == {"q1": 0, "q2": 0}
    assert audit.verify() == []


@pytest.mark.postgres_only  # elsewhere the save is an ordinary transaction (and SQLite does not check lengths)
def test_answer_without_alert_saves_nothing_when_its_entry_fails(app_ctx: Flask, world, monkeypatch) -> None:
    sess, opened = _answer_session(world, "ONE2-2345")
    before = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    monkeypatch.setattr(audit, "_request_meta", lambda: ("9" * 300, None))  # too long for the ip column
    with pytest.raises(DBAPIError):
        services.save_answer(session=opened, item_id="q2", value=1)
    db.session.rollback()
    db.session.expire_all()
    assert sess.draft == {"q1": 0}  # the draft did not change without its audit entry
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before
    assert audit.verify() == []


def test_answer_with_alert_is_one_transaction(app_ctx: Flask, world, monkeypatch) -> None:
    sess, _ = _answer_session(world, "ONE3-2345")
    for item in ("q2", "q3", "q4"):
        services.save_answer(session=OpenSession.of(sess), item_id=item, value=0)
    opened = OpenSession.of(sess)
    db.session.commit()
    real_record = audit.record

    def record_then_fail(actor, action, **kwargs):
        if action == AuditAction.SCREENING_ANSWER_SAVED:  # after the alert and its entry were written
            raise RuntimeError("audit down")
        return real_record(actor, action, **kwargs)

    monkeypatch.setattr(audit, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        services.save_answer(session=opened, item_id="q5", value=1)  # ASQ acuity "yes": an acute alert
    db.session.rollback()
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Alert)).scalar_one() == 0
    assert sess.draft == {"q1": 0, "q2": 0, "q3": 0, "q4": 0}
    monkeypatch.setattr(audit, "record", real_record)
    assert [a.rule_id for a in services.save_answer(session=opened, item_id="q5", value=1).alerts] == ["asq.acute"]
    db.session.expire_all()
    assert sess.draft["q5"] == 1
    assert audit.verify() == []
