"""E36 one audit row per sensitive read, without data; E37 append-only (PG); E38 tampering; E39 no audit, no access."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from app.core import audit
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from tests.factories import SECRET_MARKER
from tests.security.helpers import all_text_values, contains, signed_in


def _newest_id() -> int:
    return db.session.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one()


def _entries_after(entry_id: int) -> list[AuditEntry]:
    return list(db.session.execute(
        select(AuditEntry).where(AuditEntry.id > entry_id).order_by(AuditEntry.id)
    ).scalars())


# --- E36 ---------------------------------------------------------------------------------------------


def test_opening_a_pupil_card_writes_exactly_one_complete_entry(app: Flask, world) -> None:
    client = signed_in(app, world.psy1)
    before = _newest_id()
    assert client.get(f"/pupils/{world.p1.uuid}").status_code == 200
    new = _entries_after(before)
    assert [e.action for e in new] == [AuditAction.PUPIL_READ]
    entry = new[0]
    for field in ("actor_id", "actor_role", "school_id", "pupil_id", "object_type", "object_id", "ip",
                  "request_id", "at"):
        assert getattr(entry, field) is not None, field
    assert (entry.actor_id, entry.pupil_id, entry.school_id) == (world.psy1.id, world.p1.id, world.s1.id)


def test_opening_the_access_log_writes_exactly_one_entry(app: Flask, world) -> None:
    client = signed_in(app, world.psy1)
    before = _newest_id()
    assert client.get(f"/pupils/{world.p1.uuid}/access-log").status_code == 200
    assert [e.action for e in _entries_after(before)] == [AuditAction.PUPIL_ACCESS_LOG_READ]


def test_audit_rows_hold_no_personal_data(app: Flask, world) -> None:
    for user in (world.psy1, world.psy3, world.t7a, world.admin):
        client = signed_in(app, user)
        client.get("/pupils")
        client.get("/pupils", query_string={"q": f"{world.p1.last_name} {world.p1.first_name}"})
        for pupil in (world.p1, world.p3):
            client.get(f"/pupils/{pupil.uuid}")
            client.get(f"/pupils/{pupil.uuid}/access-log")
    db.session.commit()
    assert _newest_id() > 20
    needles = [SECRET_MARKER, world.p1.first_name, world.p1.iin, world.p3.iin]
    for table, column, value in all_text_values(tables=["audit_entries"]):
        assert not [n for n in needles if contains(value, n)], f"{table}.{column} holds personal data"


# --- E38: flask audit verify --------------------------------------------------------------------------


def _busy_chain(app: Flask, world) -> tuple[int, list[AuditEntry]]:
    """Generate entries in S1's chain; return its id and its entries in order."""
    client = signed_in(app, world.psy1)
    for _ in range(3):
        client.get(f"/pupils/{world.p1.uuid}")
    db.session.commit()
    entries = list(db.session.execute(
        select(AuditEntry).where(AuditEntry.chain_id == world.s1.id).order_by(AuditEntry.chain_seq)
    ).scalars())
    assert len(entries) >= 3
    db.session.commit()
    return world.s1.id, entries


def _as_superuser(statement: str, **params: object) -> None:
    """Run a change past the append-only triggers (PostgreSQL: replica mode; the test role is superuser)."""
    db.session.commit()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(statement), params)
    db.session.expire_all()


def _verify(app: Flask):
    db.session.commit()
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_verify_passes_on_an_intact_chain(app: Flask, world) -> None:
    _busy_chain(app, world)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_verify_names_an_edited_entry(app: Flask, world) -> None:
    _, entries = _busy_chain(app, world)
    target = entries[1]
    _as_superuser("UPDATE audit_entries SET outcome = 'denied' WHERE id = :id", id=target.id)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"edited: chain {target.chain_id}, seq {target.chain_seq}, entry id {target.id}" in result.output


def test_verify_detects_a_deleted_middle_entry(app: Flask, world) -> None:
    _, entries = _busy_chain(app, world)
    entry_id, chain_id, seq = entries[1].id, entries[1].chain_id, entries[1].chain_seq
    _as_superuser("DELETE FROM audit_entries WHERE id = :id", id=entry_id)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"missing: chain {chain_id}, seq {seq}" in result.output


def test_verify_detects_a_deleted_last_entry(app: Flask, world) -> None:
    _, entries = _busy_chain(app, world)
    entry_id, chain_id = entries[-1].id, entries[-1].chain_id
    _as_superuser("DELETE FROM audit_entries WHERE id = :id", id=entry_id)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"head_mismatch: chain {chain_id}" in result.output


# --- E37: append-only on PostgreSQL ----------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET outcome = 'denied'",
    "DELETE FROM audit_entries",
    "TRUNCATE audit_entries",
])
def test_the_audit_table_refuses_changes(app: Flask, world, statement: str) -> None:
    signed_in(app, world.psy1).get(f"/pupils/{world.p1.uuid}")
    db.session.commit()
    count = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    db.session.commit()  # release the read lock, or TRUNCATE would wait for it forever
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == count
    assert _verify(app).exit_code == 0


# --- E39: no audit, no access ------------------------------------------------------------------------------


def test_no_audit_no_access(app: Flask, world, monkeypatch: pytest.MonkeyPatch) -> None:
    client = signed_in(app, world.psy1)

    def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO audit_entries", {}, Exception("audit table unavailable"))

    monkeypatch.setattr(audit, "record", broken)
    response = client.get(f"/pupils/{world.p1.uuid}")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert world.p1.last_name not in body and SECRET_MARKER not in body
    listing = client.get("/pupils")
    assert listing.status_code == 503
    assert SECRET_MARKER not in listing.get_data(as_text=True)


def test_no_audit_no_access_with_a_generic_database_error(app: Flask, world, monkeypatch) -> None:
    client = signed_in(app, world.psy1)

    def broken(*args: object, **kwargs: object) -> None:
        raise SQLAlchemyError("audit insert refused")

    monkeypatch.setattr(audit, "record", broken)
    response = client.get(f"/pupils/{world.p1.uuid}")
    assert response.status_code == 503
    assert SECRET_MARKER not in response.get_data(as_text=True)
