"""The bare ceiling: a minimal Flask + SQLAlchemy app that stores a ~1 KB JSON POST as one row, and (for the
page benchmarks) reads the 20 newest rows back as a small HTML list.

No application code of Senim: no sessions, CSRF, encryption, audit or scoring. run_submit.py and
run_monitoring.py serve it with the same gunicorn settings and load as the real app, so the figures form a ratio.
``DATABASE_URL`` names the database; ``python -m bench.ceiling_app`` creates the table (and 100 rows to read).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, render_template_string, request
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


@app.get("/recent")
def recent() -> str:
    rows = db.session.execute(db.select(Submission).order_by(Submission.id.desc()).limit(20)).scalars()
    return render_template_string(
        "<!doctype html><title>recent</title><ul>{% for r in rows %}<li>{{ r.id }} {{ r.received_at }} "
        "{{ r.answers|length }}</li>{% endfor %}</ul>", rows=rows)


if __name__ == "__main__":
    with app.app_context():
        db.create_all()
        db.session.add_all(Submission(received_at=datetime.now(UTC), answers={"item": n}) for n in range(100))
        db.session.commit()
