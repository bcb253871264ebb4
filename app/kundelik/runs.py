"""A run of the roster sync from Kundelik: its progress while it runs, then its report (counts and ids only)."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import new_uuid, utcnow
from app.extensions import Model


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class KundelikSyncRun(Model):
    """One sync of one school from the Kundelik API (app.kundelik.sync)."""

    __tablename__ = "kundelik_sync_runs"

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

    def __repr__(self) -> str:
        return f"<KundelikSyncRun {self.id}>"
