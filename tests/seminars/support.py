"""Helpers for the seminar tests: seminars scheduled through the service, the organiser's form as data."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.auth.models import User
from app.core.models import utcnow
from app.seminars import services
from app.seminars.models import Seminar


def make_seminar(organiser: User, *, where: tuple[str, int], audience: str = "both", capacity: int = 30,
                 starts_in: timedelta = timedelta(days=3), closes_before: timedelta = timedelta(0),
                 title: str = "Жасөспірімдермен сөйлесу", description: str = "**Қалай** сөйлесу керек",
                 online_url: str = "https://meet.example.kz/abc", place: str = "",
                 now: datetime | None = None) -> Seminar:
    """A seminar scheduled by ``organiser`` through the service (checked, audited)."""
    now = now or utcnow()
    starts = (now + starts_in).replace(microsecond=0)
    data = services.SeminarInput(
        title=title, description=description, audience=audience, where=where, starts_at=starts,
        ends_at=starts + timedelta(hours=1), online_url=online_url, place=place, capacity=capacity,
        registration_closes_at=starts - closes_before, language="kk")
    return services.create_seminar(actor=organiser, data=data, now=now)


def form_data(where: str, **overrides: Any) -> dict[str, Any]:
    """The organiser's form, filled in for a seminar a week from the school's today."""
    day = (services.to_local(utcnow()) + timedelta(days=7)).date()
    data = {"title": "Емтихан стрессі", "description": "Ата-аналарға кеңес", "audience": "parents",
            "where": where, "day": day.isoformat(), "starts": "18:00", "ends": "19:00",
            "online_url": "https://meet.example.kz/x", "place": "", "capacity": "20", "closes": "",
            "language": "kk"}
    data.update(overrides)
    return data


def move_to_past(seminar: Seminar, *, hours: int = 2) -> None:
    """Make the seminar one that began ``hours`` ago (registrations stay)."""
    from app.extensions import db

    start = utcnow().replace(microsecond=0) - timedelta(hours=hours)
    db.session.execute(Seminar.__table__.update().where(Seminar.__table__.c.id == seminar.id).values(
        registration_closes_at=start - timedelta(hours=1), starts_at=start, ends_at=start + timedelta(hours=1)))
    db.session.commit()
    db.session.refresh(seminar)
