"""Helpers for the help tests: directory entries and requests sent through the real pages."""

from __future__ import annotations

from app.core.models import Region
from app.extensions import db
from app.help.models import HelpService
from tests.factories import csrf_token


def make_service(*, phone: str, name: str, region: Region | None = None, district_id: int | None = None,
                 kind: str = "helpline", active: bool = True, source: str = "") -> HelpService:
    service = HelpService(kind=kind, region_id=region.id if region else None, district_id=district_id,
                          name_kk=f"{name} kk", name_ru=f"{name} ru", name_en=f"{name} en", phone=phone,
                          source=source or ("Act 1" if region is None else ""), active=active)
    db.session.add(service)
    db.session.commit()
    return service


def send_anonymous(client, school, school_class, message: str, *, environ: dict | None = None):
    path = f"/help/ask?school={school.id}"
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "class_id": str(school_class.id if school_class else 0),
                                   "message": message}, environ_base=environ or {})
