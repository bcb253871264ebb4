"""The bare ceiling: a minimal Flask + SQLAlchemy app that stores a ~1 KB JSON POST as one row.

No application code of Senim: no sessions, CSRF, encryption, audit or scoring. run_submit.py serves it
with the same gunicorn settings and load as the real app, so the two figures form a ratio.
``DATABASE_URL`` names the database; ``python -m bench.ceiling_app`` creates the table.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime
from sqlalchemy.orm import Mapped, mapped_column

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app)


class Submission(db.Model):
    __tablename__ = "bench_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answers: Mapped[dict] = mapped_column(JSON)


@app.post("/submit")
def submit() -> tuple[dict, int]:
    db.session.add(Submission(received_at=datetime.now(UTC), answers=request.get_json()))
    db.session.commit()
    return {"ok": True}, 201


if __name__ == "__main__":
    with app.app_context():
        db.create_all()
