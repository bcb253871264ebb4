"""The help directory (one source for 150, 111, 112 and each region's services) and "ask for help".

:func:`contacts_for` is what every page shows: the national lines and the services of the viewer's region (and
district), or the built-in 150 / 111 / 112 when the directory has no national entry. :func:`send_request` stores
a pupil's message encrypted and raises its alert in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, delete, or_, select

from app.auth.models import FailurePurpose, LoginFailure, User
from app.auth.services import count_failure, failures_since
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.encryption import blind_index
from app.core.models import District, Pupil, School, SchoolClass, utcnow
from app.extensions import db
from app.help.models import HelpRequest, HelpService, ServiceKind
from app.screening import alerts

#: Longest message a pupil can send.
MESSAGE_MAX = 2000


@dataclass(frozen=True)
class Contact:
    """A help line or service as pages show it (a directory entry or a built-in line)."""

    phone: str
    tel: str
    name: str | LazyString
    kind: str
    national: bool
    hours: str = ""
    address: str = ""
    website: str = ""
    source: str = ""


#: Shown when the directory has no national entry (an empty or damaged table must never leave a page without them).
BUILT_IN = (
    Contact("150", "150", _l("Children's and youth helpline (free, 24/7)"), ServiceKind.HELPLINE.value, True),
    Contact("111", "111", _l("Contact centre for family, women's and children's rights"), ServiceKind.HELPLINE.value,
            True),
    Contact("112", "112", _l("Emergency"), ServiceKind.EMERGENCY.value, True),
)

_KIND_ORDER = {kind.value: i for i, kind in enumerate(ServiceKind)}


def _contact(service: HelpService) -> Contact:
    return Contact(phone=service.phone, tel=service.tel, name=service.name, kind=service.kind,
                   national=service.national, hours=service.hours, address=service.address,
                   website=service.website, source=service.source)


@dataclass(frozen=True)
class Place:
    """Where a viewer is, as far as known: narrows the regional services shown."""

    region_id: int | None = None
    district_id: int | None = None

    @classmethod
    def of_school(cls, school: School | None) -> Place:
        if school is None:
            return cls()
        return cls(region_id=school.district.region_id, district_id=school.district_id)

    @classmethod
    def of_district(cls, district: District) -> Place:
        return cls(region_id=district.region_id, district_id=district.id)


def contacts_for(place: Place) -> list[Contact]:
    """National lines (help lines first, emergency last), then the services of ``place``'s region and district.

    Falls back to the built-in 150 / 111 / 112 when the directory has no active national entry.
    """
    national = HelpService.region_id.is_(None)
    regional: ColumnElement[bool] = national
    if place.region_id is not None:
        regional = or_(national, and_(
            HelpService.region_id == place.region_id,
            or_(HelpService.district_id.is_(None), HelpService.district_id == place.district_id)))
    found = db.session.execute(select(HelpService).where(HelpService.active.is_(True), regional)).scalars().all()
    ordered = sorted(found, key=lambda s: (not s.national, s.kind == ServiceKind.EMERGENCY.value and s.national,
                                           s.position, _KIND_ORDER.get(s.kind, 9), s.id))
    contacts = [_contact(s) for s in ordered]
    if not any(c.national for c in contacts):
        contacts = [*BUILT_IN, *contacts]
    return contacts


def place_of_user(user: Any) -> Place:
    """The place of a signed-in user: a pupil's school, else the first school, district or region of a role."""
    if not getattr(user, "is_authenticated", False):
        return Place()
    if getattr(user, "pupil_id", None) is not None and user.pupil is not None:
        return Place.of_school(user.pupil.school)
    for assignment in user.assignments:
        if assignment.school_id is not None:
            return Place.of_school(db.session.get(School, assignment.school_id))
        if assignment.district_id is not None:
            district = db.session.get(District, assignment.district_id)
            if district is not None:
                return Place.of_district(district)
        if assignment.region_id is not None:
            return Place(region_id=assignment.region_id)
    return Place()


# --- the directory, for admins ---------------------------------------------------------------

def all_services() -> list[HelpService]:
    """Every entry, active or not: national first, then by region, district and position."""
    return list(db.session.execute(select(HelpService).order_by(
        HelpService.region_id.is_not(None), HelpService.region_id, HelpService.district_id, HelpService.position,
        HelpService.id)).scalars())


_FIELDS = ("kind", "region_id", "district_id", "name_kk", "name_ru", "name_en", "phone", "hours_kk", "hours_ru",
           "hours_en", "address", "website", "source", "position", "active")


def save_service(*, actor: User, service: HelpService | None, values: dict[str, Any]) -> HelpService:
    """Create (``service`` None) or change a directory entry, audited, in one transaction."""
    created = service is None
    target = HelpService() if service is None else service
    for field in _FIELDS:
        if field in values:
            setattr(target, field, values[field])
    if target.district_id is not None:  # a district belongs to one region: keep the two consistent
        district = db.session.get_one(District, target.district_id)
        target.region_id = district.region_id
    if created:
        db.session.add(target)
        db.session.flush()
    audit.record(actor, AuditAction.HELP_SERVICE_CREATE if created else AuditAction.HELP_SERVICE_UPDATE,
                 object_type="help_service", object_id=target.uuid)
    db.session.commit()
    return target


# --- ask for help ---------------------------------------------------------------------------

def _device_key(device: str, *, anonymous: bool = False) -> str:
    return blind_index(device or "-", scope="help-anon-device" if anonymous else "help-device").hex()


def _address_key(ip: str, *, anonymous: bool = False) -> str:
    """The address as a keyed HMAC: the rate limit needs equality only, and no address is stored in plaintext."""
    return blind_index(ip or "-", scope="help-anon-ip" if anonymous else "help-ip").hex()[:45]


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def throttled(*, device: str, ip: str, anonymous: bool = False) -> bool:
    """True while this browser or this address has sent too many requests within SENIM_HELP_WINDOW.

    Named and anonymous requests are counted apart, under keys of different scopes (see :func:`send_request`).
    """
    config = current_app.config
    window = config["SENIM_HELP_WINDOW"]
    return (failures_since(FailurePurpose.HELP, key=_device_key(device, anonymous=anonymous), window=window)
            >= config["SENIM_HELP_DEVICE_THRESHOLD"]
            or failures_since(FailurePurpose.HELP, ip=_address_key(ip, anonymous=anonymous), window=window)
            >= config["SENIM_HELP_IP_THRESHOLD"])


def _count_anonymous(*, device: str, ip: str) -> None:
    """Count an anonymous request so that the count cannot name the sender (see :func:`send_request`)."""
    now = utcnow()
    db.session.execute(delete(LoginFailure).where(
        LoginFailure.purpose == FailurePurpose.HELP.value,
        LoginFailure.at < now - current_app.config["SENIM_HELP_WINDOW"]))
    db.session.add(LoginFailure(purpose=FailurePurpose.HELP.value, account_key=_device_key(device, anonymous=True),
                                ip=_address_key(ip, anonymous=True), at=_minute(now)))


class RequestThrottled(Exception):
    """Too many requests from this browser or address: nothing was stored, no alert raised."""


def schools_for_anonymous() -> Sequence[School]:
    """Schools an anonymous pupil can choose (public names only)."""
    return db.session.execute(select(School).order_by(School.id)).scalars().all()


def classes_of(school: School) -> Sequence[SchoolClass]:
    """The school's classes of its latest school year (labels only), for an anonymous pupil to choose."""
    latest = db.session.execute(select(SchoolClass.school_year).where(SchoolClass.school_id == school.id)
                                .order_by(SchoolClass.school_year.desc()).limit(1)).scalar()
    return db.session.execute(select(SchoolClass).where(
        SchoolClass.school_id == school.id, SchoolClass.school_year == latest)
        .order_by(SchoolClass.grade, SchoolClass.letter)).scalars().all()


def send_request(*, actor: User | None, school: School, school_class: SchoolClass | None, pupil: Pupil | None,
                 message: str, device: str, ip: str) -> HelpRequest:
    """Store a pupil's message (encrypted) and raise its alert for the school's psychologists: one transaction.

    A named request (``pupil`` given) is audited in full: the send and the alert, with the actor and address.

    ``pupil`` None makes it anonymous, and then nothing stored at the moment of sending may point at the sender,
    even a signed-in pupil who chose not to give the name (issue 11: "cannot be traced back through the UI"):

    - no audit entry at all. An entry without actor still sat in the school's chain beside the pupil's own
      sign-in and page reads, timed to the microsecond and next to them by id and position, so a reader of the
      log could match the two. The request enters the audit log when a psychologist first opens the inbox
      that lists it (:func:`audit_first_opening`, actor: that psychologist, at a time the sender does not
      choose). The chains stay as they were: every entry written is hash-linked and verified as before.
    - the request and the alert carry the school and class only (the alert's pupil reference is random);
    - the rate limit counts under keyed values (HMAC) of the browser's random id and of the address, of scopes
      used by nothing else (a named request from the same browser has other keys, so the two cannot be joined),
      at a time cut to the minute, and the counts are deleted once older than SENIM_HELP_WINDOW;
    - a refused (throttled) anonymous attempt writes no audit entry either: it stores nothing and raises nothing.

    The alert is still raised, and its e-mail queued, in the transaction that saves the request.
    """
    text = message.strip()
    if not text or len(text) > MESSAGE_MAX:
        raise ValueError("message length")
    anonymous = pupil is None
    if pupil is not None:
        if pupil.school_id != school.id:
            raise ValueError("pupil of another school")
        school_class = pupil.school_class
    if school_class is not None and school_class.school_id != school.id:
        raise ValueError("class of another school")
    if throttled(device=device, ip=ip, anonymous=anonymous):
        if not anonymous:
            audit.record(actor, AuditAction.HELP_REQUEST_THROTTLED, outcome=Outcome.DENIED, school_id=school.id)
            db.session.commit()
        raise RequestThrottled
    if anonymous:
        _count_anonymous(device=device, ip=ip)
    else:
        count_failure(FailurePurpose.HELP, key=_device_key(device), ip=_address_key(ip))
    request_row = HelpRequest(school_id=school.id)
    request_row.body = {"message": text, "class_id": school_class.id if school_class else None,
                        "pupil_id": None if anonymous else pupil.id}  # type: ignore[union-attr]
    db.session.add(request_row)
    db.session.flush()
    alert = alerts.raise_help_request(actor=actor, school_id=school.id, pupil_id=None if pupil is None else pupil.id,
                                      class_id=school_class.id if school_class else None,
                                      help_request_id=request_row.id, anonymous=anonymous)
    if not anonymous:
        audit.record(actor, AuditAction.HELP_REQUEST_SENT, school_id=school.id, object_type="help_request",
                     object_id=request_row.uuid, details={"alert": alert.uuid, "anonymous": False})
    db.session.commit()
    return request_row


def messages_for(alert_list: Sequence[Any]) -> dict[str, str]:
    """The decrypted messages of the request-for-help alerts among ``alert_list`` (already scoped), by alert uuid."""
    ids = {a.help_request_id: a.uuid for a in alert_list if a.is_help_request and a.help_request_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(HelpRequest).where(HelpRequest.id.in_(list(ids)))).scalars()
    return {ids[r.id]: r.message for r in rows}
