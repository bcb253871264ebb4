"""A run of the roster sync from Kundelik: its progress while it runs, then its report (counts and ids only).

At most one run of a school is running at a time, and the database says so: a unique index over the school of
the runs whose status is "running" (a partial index, on SQLite and PostgreSQL alike). A run writes a heartbeat
with its progress; a running run whose heartbeat is older than ``SENIM_KUNDELIK_SYNC_STALE_AFTER`` was
interrupted (its process stopped) and no longer counts (app.kundelik.sync).
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import new_uuid, utcnow
from app.extensions import Model


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Its process stopped mid-way (heartbeat too old): like every unfinished run, it committed nothing.
    INTERRUPTED = "interrupted"


class KundelikSyncRun(Model):
    """One sync of one school from the Kundelik API (app.kundelik.sync)."""

    __tablename__ = "kundelik_sync_runs"
    __table_args__ = (
        # The database, not a lock in one process, keeps a school to one running sync.
        Index("uq_kundelik_sync_runs_running_school", "school_id", unique=True,
              sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public id used in URLs.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: Who started it (None: the command line).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: "web" or "cli".
    via: Mapped[str] = mapped_column(String(8), default="web")
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING.value)
    #: What the run is doing now (a key of app.kundelik.sync_labels.STEPS) and how far it is: progress only.
    step: Mapped[str] = mapped_column(String(16), default="start")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: Last sign of life of the run, written with its progress. Not sensitive.
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Why it failed (a short code, see app.kundelik.sync.SyncFailed); None while running or after success.
    error: Mapped[str | None] = mapped_column(String(32))
    #: JSON report: counts, and lists of Senim pupil ids, Kundelik person ids, class labels and problem codes.
    #: Never a name or an IIN (names are looked up when an authorised reader opens the report).
    report_json: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def report(self) -> dict[str, Any]:
        return dict(json.loads(self.report_json or "{}"))

    @property
    def finished(self) -> bool:
        return self.status != RunStatus.RUNNING

    def shown_status(self, stale_before: datetime) -> str:
        """The status to show: a running run silent since before ``stale_before`` is shown as interrupted (before
        the next start marks it so)."""
        if self.status == RunStatus.RUNNING and self.heartbeat_at < stale_before:
            return RunStatus.INTERRUPTED.value
        return self.status

    def __repr__(self) -> str:
        return f"<KundelikSyncRun {self.id}>"
