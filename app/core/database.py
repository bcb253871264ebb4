"""Connection-pool health without a round trip per request.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` to the server at every checkout: one extra round trip
on every request, the largest single cost left on a pupil's answer save once the rest was trimmed
(bench/README.md). Instead, at checkout we look at the connection's socket without waiting: an idle
PostgreSQL connection has nothing to read, so a readable socket means the server has sent something
unasked — in practice the FATAL message and end-of-file of a backend that was terminated or of a
server that restarted. Such a connection is discarded (``DisconnectionError``) and the pool hands out
another one, so the request never sees it. ``pool_recycle`` (config.py) retires connections before
network middleboxes or server idle timeouts can silently cut them.
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError

from app.extensions import db

#: Execution options of a connection whose every statement commits by itself: for a read that needs no
#: transaction, or one statement that is atomic on its own (see app/core/audit.py, ``autocommit``).
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def autocommit_open() -> bool:
    """True while the session's open "transaction" is an autocommit one (see autocommit_connection)."""
    session = db.session()
    return session.in_transaction() and session.connection().get_execution_options().get("isolation_level") == \
        "AUTOCOMMIT"


def autocommit_connection() -> Connection:
    """The session's connection for statements that need no transaction: reads, or one statement that is
    atomic by itself. With no transaction open it is an autocommit connection (no BEGIN and COMMIT round
    trips); it stays the session's until :func:`end_autocommit` or a commit. Inside a transaction it is
    that transaction's connection.
    """
    session = db.session()
    if session.in_transaction():
        return session.connection()
    return session.connection(execution_options=AUTOCOMMIT)


def end_autocommit() -> None:
    """End an open autocommit "transaction" (nothing is sent), so that the next statement begins a real one.

    Call it before several statements that must commit together; app/core/audit.py refuses to write an
    entry into an autocommit session otherwise.
    """
    if autocommit_open():
        db.session.commit()


def connection_is_stale(dbapi_connection: Any) -> bool:
    """True when a pooled psycopg connection is closed, broken, or has unread data waiting (EOF/FATAL)."""
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        return True
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _check_on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if connection_is_stale(dbapi_connection):
        raise DisconnectionError("stale pooled connection discarded at checkout")


def install_liveness_check(engine: Engine) -> None:
    """Discard stale PostgreSQL connections at checkout (SQLite connections are local files: nothing to do)."""
    if engine.dialect.name == "postgresql" and not event.contains(engine, "checkout", _check_on_checkout):
        event.listen(engine, "checkout", _check_on_checkout)


class Prepared:
    """A Core statement for a hot path, compiled once per dialect and sent with ``exec_driver_sql``.

    ``Connection.execute`` rebuilds the statement's cache key and runs every parameter through its type's
    bind processor on each call; on a pupil's answer save that was a tenth of the request. On PostgreSQL
    this runs the SQL compiled once instead, so parameters must be plain driver values (str, int, bytes,
    timezone-aware datetime) and rows come back as the driver gives them (no result processing: compare
    datetimes, do not format them). Other databases use ``Connection.execute`` as usual.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, dict[str, Any]]] = {}

    def execute(self, conn: Connection, params: dict[str, Any]) -> Any:
        dialect = conn.dialect
        if dialect.name != "postgresql":
            return conn.execute(self.statement, params)
        if dialect.name not in self._compiled:
            compiled = self.statement.compile(dialect=dialect)
            self._compiled[dialect.name] = (str(compiled), dict(compiled.params))  # literals SQLAlchemy bound
        sql, fixed = self._compiled[dialect.name]
        return conn.exec_driver_sql(sql, {**fixed, **params})
