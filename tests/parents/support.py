"""Helpers of the parent portal tests: requests and summaries through the real pages, audit entries by action."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.parents.models import MeetingRequest, ParentSummary
from tests.factories import csrf_token
from tests.monitoring.support import entries  # noqa: F401  (audit entries by action, for the tests here)

#: Put into every message and summary: it must never be found in the database in plaintext.
MARKER = "ZZ-PORTAL-SECRET"


def ask_meeting(client, child_uuid: str, *, times: str = f"{MARKER} Tuesday after 15:00",
                message: str = f"{MARKER} she cries after school"):
    token = csrf_token(client, f"/parents/meetings/new?child={child_uuid}")
    return client.post("/parents/meetings/new", data={"csrf_token": token, "child": child_uuid, "times": times,
                                                      "message": message})


def prefixed_post(client, form_page: str, path: str, prefix: str, data: dict):
    """POST a form whose fields carry ``prefix`` (the CSRF token's field too)."""
    token = csrf_token(client, form_page)
    payload = {f"{prefix}-{name}": value for name, value in data.items()}
    payload[f"{prefix}-csrf_token"] = token
    return client.post(path, data=payload)


def meetings() -> list[MeetingRequest]:
    db.session.expire_all()
    return list(db.session.execute(select(MeetingRequest).order_by(MeetingRequest.id)).scalars())


def summaries() -> list[ParentSummary]:
    db.session.expire_all()
    return list(db.session.execute(select(ParentSummary).order_by(ParentSummary.id)).scalars())


def propose(client, meeting: MeetingRequest, day: str, at: str = "15:30", *, reply: str = "",
            version: int | None = None):
    """The psychologist proposes a time through the request's page (at the request's version unless given)."""
    page = f"/parents/meetings/{meeting.uuid}"
    return prefixed_post(client, page, f"{page}/schedule", "schedule",
                         {"day": day, "time": at, "reply": reply,
                          "version": meeting.version if version is None else version})


def decline(client, meeting: MeetingRequest, reply: str, *, version: int | None = None):
    page = f"/parents/meetings/{meeting.uuid}"
    return prefixed_post(client, page, f"{page}/decline", "decline",
                         {"reply": reply, "version": meeting.version if version is None else version})


#: The parent's steps: URL part and form prefix.
STEPS = {"accept": "accept", "cancel": "cancel", "other-time": "other"}


def parent_step(client, meeting: MeetingRequest, step: str, *, version: int | None = None,
                form_page: str | None = None, **data):
    """The parent accepts, cancels or asks for another time (``step``) from the child's page."""
    page = form_page or f"/parents/child/{meeting.pupil.uuid}"
    data["version"] = meeting.version if version is None else version
    return prefixed_post(client, page, f"/parents/meetings/{meeting.uuid}/{step}", f"{STEPS[step]}-{meeting.uuid}",
                         data)
