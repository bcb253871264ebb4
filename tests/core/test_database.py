"""Pooled connections: a dead one is replaced at checkout without a round trip and without an error."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from app.core.database import connection_is_stale
from app.extensions import db
from tests.factories import post


@dataclass
class _FakeConnection:
    sock: socket.socket
    closed: bool = False
    broken: bool = False

    def fileno(self) -> int:
        return self.sock.fileno()


def test_idle_connection_is_not_stale_and_unread_data_or_eof_is() -> None:
    ours, server = socket.socketpair()
    try:
        assert connection_is_stale(_FakeConnection(ours)) is False
        server.sendall(b"E")  # e.g. the FATAL message of a terminated backend
        assert connection_is_stale(_FakeConnection(ours)) is True
    finally:
        ours.close()
        server.close()
    other, peer = socket.socketpair()
    peer.close()  # end of file
    try:
        assert connection_is_stale(_FakeConnection(other)) is True
    finally:
        other.close()


def test_closed_or_broken_or_unusable_connection_is_stale() -> None:
    ours, server = socket.socketpair()
    try:
        assert connection_is_stale(_FakeConnection(ours, closed=True)) is True
        assert connection_is_stale(_FakeConnection(ours, broken=True)) is True
    finally:
        server.close()
        ours.close()
    assert connection_is_stale(_FakeConnection(ours)) is True  # fileno() of a closed socket is -1


def test_no_ping_round_trip_at_checkout(app_ctx: Flask) -> None:
    assert not app_ctx.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping")
    assert db.engine.pool._pre_ping is False


def _terminate_backends(*, pid: int | None = None) -> None:
    """Terminate this database's backends (one, or all but the caller's), as a server restart would."""
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            where = "pid = :pid" if pid is not None else "datname = current_database() AND pid <> pg_backend_pid()"
            query = text(f"SELECT pid FROM pg_stat_activity WHERE {where}")  # noqa: S608 - fixed texts
            victims = conn.execute(query, {"pid": pid}).scalars().all()
            for victim in victims:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
            for _ in range(100):  # wait until they are gone (not a timing assertion)
                if not conn.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                    {"pids": list(victims)}).first():
                    break
                time.sleep(0.05)
    finally:
        admin.dispose()


@pytest.mark.postgres_only
def test_terminated_backend_is_replaced_at_checkout(app_ctx: Flask) -> None:
    with db.engine.connect() as conn:
        old_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate_backends(pid=old_pid)  # the connection is back in the pool, its backend gone
    with db.engine.connect() as conn:  # without the check this raises OperationalError
        new_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert new_pid != old_pid


@pytest.mark.postgres_only
def test_a_request_after_a_server_side_disconnect_succeeds(app_ctx: Flask) -> None:
    client = app_ctx.test_client()
    form = {"username": "nobody", "password": "wrong-password"}
    assert post(client, "/login", form).status_code == 200  # a failed sign-in: reads and writes the database
    db.session.remove()
    _terminate_backends()
    response = post(client, "/login", form)
    assert response.status_code == 200
