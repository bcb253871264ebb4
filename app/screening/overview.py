"""The psychologist's class overview: each pupil's latest band per instrument, open alerts, consent and
campaign completion, in a fixed number of queries whatever the size of the class.

The opening is audited once (class id and count), not once per pupil. Templates get plain summaries
(strings, dates, colours), never ORM objects, so that the audit commit does not reload them one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from app.auth.models import User
from app.auth.permissions import Permission, pupil_scope, visible_classes, visible_pupils
from app.classes.services import FlagColour
from app.consent import services as consent
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, SchoolClass, utcnow
from app.extensions import db
from app.screening import labels
from app.screening.alerts import open_alerts_by_pupil
from app.screening.models import (
    Campaign,
    FlagLevel,
    ScreeningResult,
    ScreeningSession,
    SessionStatus,
    campaign_classes,
)
from app.screening.services import instrument_for

P = Permission.SCREENING_RESULTS

_RANK = {FlagColour.GREY: 0, FlagColour.GREEN: 1, FlagColour.AMBER: 2, FlagColour.RED: 3}
G, A, R = FlagColour.GREEN, FlagColour.AMBER, FlagColour.RED

#: Display colour of a band code (a reading aid for the psychologist, not a clinical rule: the alert
#: rules in the instrument files decide what needs action). Codes unknown here (local methods) are grey.
BAND_COLOURS: dict[str, FlagColour] = {
    "minimal": G, "mild": G, "minimal_or_mild": G, "negative": G, "typical": G, "adequate_wellbeing": G,
    "low": G, "moderate": A, "positive": A, "poor_wellbeing": A, "incomplete": A, "high": A,
    "moderately_severe": R, "severe": R, "likely_depression": R, "acute_positive": R,
    "non_acute_positive": R, "positive_acuity_unknown": R,
}
#: Where a code means the opposite on one instrument (Rosenberg: low self-esteem is the concern).
INSTRUMENT_BAND_COLOURS: dict[tuple[str, str], FlagColour] = {
    # Rosenberg: descriptive ranges only ("no discrete cut-off points", UMD): never coloured as a finding.
    ("rses", "low"): FlagColour.GREY, ("rses", "typical"): FlagColour.GREY, ("rses", "high"): FlagColour.GREY,
    ("k6", "high"): R,
}
_FLAG_COLOURS = {FlagLevel.NONE: FlagColour.GREY, FlagLevel.ROUTINE: A, FlagLevel.URGENT: R, FlagLevel.ACUTE: R}


class CampaignStatus:
    """A pupil's progress in the chosen campaign (stable values used by the template)."""

    COMPLETED = "completed"
    IN_PROGRESS = "in_progress"
    ISSUED = "issued"
    EXPIRED = "expired"
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class LatestResult:
    """The newest result of one instrument for one pupil, reduced to a band, a colour and a date."""

    instrument_id: str
    completed_at: datetime
    band: str | LazyString
    colour: FlagColour


@dataclass(frozen=True)
class OverviewRow:
    """One pupil's line of the class overview."""

    pupil_uuid: str
    pupil_name: str
    latest: Mapping[str, LatestResult]
    open_alerts: int
    consented: bool
    campaign_status: str | None


@dataclass(frozen=True)
class CampaignChoice:
    id: int
    uuid: str
    title: str
    opens_at: datetime
    closes_at: datetime
    instrument_refs: tuple[str, ...]


@dataclass(frozen=True)
class ClassOverview:
    """Everything the class overview page shows."""

    class_id: int
    label: str
    school_year_label: str
    instruments: list[tuple[str, str]]
    rows: list[OverviewRow]
    campaigns: list[CampaignChoice] = field(default_factory=list)
    campaign: CampaignChoice | None = None

    @property
    def not_completed(self) -> list[OverviewRow]:
        """Pupils who have not completed the chosen campaign."""
        return [r for r in self.rows
                if r.campaign_status is not None and r.campaign_status != CampaignStatus.COMPLETED]


@dataclass(frozen=True)
class ClassCounts:
    """One line of the class list: counts only, no names."""

    class_id: int
    label: str
    school_year_label: str
    pupils: int
    screened: int
    open_alerts: int


def band_colour(instrument_id: str, code: str | None) -> FlagColour:
    """Display colour of a band code (grey when unknown or absent)."""
    if code is None:
        return FlagColour.GREY
    return INSTRUMENT_BAND_COLOURS.get((instrument_id, code), BAND_COLOURS.get(code, FlagColour.GREY))


def _band_order(result: ScreeningResult, bands: Mapping[str, Any]) -> list[str]:
    """Band ids in the instrument's own order (its first band set is the main one)."""
    try:
        instrument = instrument_for(result.instrument_ref)
    except LookupError:  # a retired local method: keep the stored bands, alphabetically
        return sorted(bands)
    declared = [b.id for b in instrument.bands] + [o.id for o in instrument.outcomes]
    return [b for b in declared if b in bands] + sorted(set(bands) - set(declared))


def summarise(result: ScreeningResult) -> LatestResult:
    """The worst band of a result (decrypts its scores) combined with its plaintext flag level."""
    bands = {k: v for k, v in result.scores.get("bands", {}).items() if v is not None}
    order = _band_order(result, bands)
    colour = _FLAG_COLOURS.get(result.flag_level, FlagColour.GREY)
    if not order:
        return LatestResult(result.instrument_id, result.completed_at, _l("Not scorable"), colour)
    # The worst band; on a tie the one the instrument declares first.
    worst = max(order, key=lambda b: (_RANK[band_colour(result.instrument_id, bands[b])], -order.index(b)))
    code = bands[worst]
    colour = max(colour, band_colour(result.instrument_id, code), key=_RANK.__getitem__)
    label = LazyString(_band_name, result.instrument_id, worst, code, qualified=worst != order[0])
    return LatestResult(result.instrument_id, result.completed_at, label, colour)


def _band_name(instrument_id: str, band_set: str, code: str, *, qualified: bool) -> str:
    """The instrument's own band name, capitalised; a generic one (local methods) says which band set
    it is of unless it is the main one."""
    label = labels.band_label(instrument_id, band_set, code, qualified=qualified)
    return label[:1].upper() + label[1:]


def _latest_results(pupil_ids: list[int]) -> list[ScreeningResult]:
    """The newest result per pupil and instrument (one query, a window function)."""
    ranked = select(
        ScreeningResult.id,
        func.row_number().over(partition_by=(ScreeningResult.pupil_id, ScreeningResult.instrument_id),
                               order_by=(ScreeningResult.completed_at.desc(), ScreeningResult.id.desc()))
        .label("rank"),
    ).where(ScreeningResult.pupil_id.in_(pupil_ids)).subquery()
    return list(db.session.execute(
        select(ScreeningResult).join(ranked, ranked.c.id == ScreeningResult.id).where(ranked.c.rank == 1)
    ).scalars())


def _open_alert_counts(pupil_ids: list[int]) -> dict[int, int]:
    return {pid: len(found) for pid, found in open_alerts_by_pupil(pupil_ids=pupil_ids).items()}


def _campaigns(school_class: SchoolClass) -> list[CampaignChoice]:
    rows = db.session.execute(
        select(Campaign).join(campaign_classes, campaign_classes.c.campaign_id == Campaign.id)
        .where(campaign_classes.c.class_id == school_class.id, Campaign.school_id == school_class.school_id)
        .order_by(Campaign.opens_at.desc(), Campaign.id.desc())).scalars()
    return [CampaignChoice(c.id, c.uuid, c.title, c.opens_at, c.closes_at, tuple(c.instrument_refs)) for c in rows]


def _choose(campaigns: list[CampaignChoice], wanted: str | None) -> CampaignChoice | None:
    """The campaign asked for, else the newest one already open, else the newest."""
    if wanted:
        return next((c for c in campaigns if c.uuid == wanted), None)
    now = utcnow()
    return next((c for c in campaigns if c.opens_at <= now), campaigns[0] if campaigns else None)


def _campaign_statuses(choice: CampaignChoice, pupil_ids: list[int]) -> dict[int, str]:
    """Each pupil's progress: done means a result for every instrument of the campaign (online through
    the campaign's codes, or a paper form entered within its window)."""
    done: dict[int, set[str]] = {}
    for pupil_id, instrument_id, version in db.session.execute(
            select(ScreeningResult.pupil_id, ScreeningResult.instrument_id, ScreeningResult.instrument_version)
            .where(ScreeningResult.pupil_id.in_(pupil_ids),
                   or_(ScreeningResult.campaign_id == choice.id,
                       and_(ScreeningResult.completed_at >= choice.opens_at,
                            ScreeningResult.completed_at <= choice.closes_at)))):
        done.setdefault(pupil_id, set()).add(f"{instrument_id}@{version}")
    sessions: dict[int, set[str]] = {}
    for pupil_id, status in db.session.execute(
            select(ScreeningSession.pupil_id, ScreeningSession.status)
            .where(ScreeningSession.campaign_id == choice.id, ScreeningSession.pupil_id.in_(pupil_ids))):
        sessions.setdefault(pupil_id, set()).add(status)
    statuses = {}
    for pupil_id in pupil_ids:
        seen = sessions.get(pupil_id, set())
        if set(choice.instrument_refs) <= done.get(pupil_id, set()):
            statuses[pupil_id] = CampaignStatus.COMPLETED
        elif SessionStatus.IN_PROGRESS.value in seen or done.get(pupil_id):
            statuses[pupil_id] = CampaignStatus.IN_PROGRESS
        elif SessionStatus.ISSUED.value in seen:
            statuses[pupil_id] = CampaignStatus.ISSUED
        elif seen:
            statuses[pupil_id] = CampaignStatus.EXPIRED
        else:
            statuses[pupil_id] = CampaignStatus.NOT_STARTED
    return statuses


def class_overview(*, actor: User, school_class: SchoolClass, campaign_uuid: str | None = None) -> ClassOverview:
    """The overview of an (already scope-checked) class; the opening is audited once before it is shown."""
    pupils = list(db.session.execute(
        visible_pupils(actor, P).where(Pupil.class_id == school_class.id)).scalars())
    ids = [p.id for p in pupils]
    latest: dict[int, dict[str, LatestResult]] = {}
    for result in _latest_results(ids):
        latest.setdefault(result.pupil_id, {})[result.instrument_id] = summarise(result)
    alerts = _open_alert_counts(ids)
    consented = consent.consented_pupil_ids(ids)
    campaigns = _campaigns(school_class)
    choice = _choose(campaigns, campaign_uuid)
    statuses: dict[int, str] = {}
    if choice is not None:
        statuses = _campaign_statuses(choice, ids)
    rows = [OverviewRow(p.uuid, p.short_name, latest.get(p.id, {}), alerts.get(p.id, 0), p.id in consented,
                        statuses.get(p.id)) for p in pupils]
    rows.sort(key=lambda r: r.pupil_name.casefold())
    instruments = _columns(latest.values(), choice)
    overview = ClassOverview(school_class.id, school_class.label, school_class.school_year_label, instruments,
                             rows, campaigns, choice)
    audit.record_read(actor, AuditAction.CLASS_OVERVIEW_READ, school_id=school_class.school_id,
                      object_type="class", object_id=school_class.id,
                      details={"count": len(rows), "campaign": choice.uuid if choice else None})
    return overview


def _columns(latest: Iterable[Mapping[str, LatestResult]], choice: CampaignChoice | None) -> list[tuple[str, str]]:
    """Instrument columns (id, heading): the chosen campaign's first, in its order, then any other,
    alphabetically. A local method ("local:<school>:<id>") is headed by its own id."""
    first = [ref.partition("@")[0] for ref in (choice.instrument_refs if choice else ())]
    others = sorted({i for per_pupil in latest for i in per_pupil} - set(first))
    return [(i, i.rsplit(":", 1)[-1].upper()) for i in [*dict.fromkeys(first), *others]]


def class_list(*, actor: User) -> list[ClassCounts]:
    """The actor's classes with pupil, screened-pupil and open-alert counts (three grouped queries)."""
    classes = list(db.session.execute(visible_classes(actor, P).order_by(
        SchoolClass.school_year.desc(), SchoolClass.grade, SchoolClass.letter)).scalars())
    ids = [c.id for c in classes]
    scope = (Pupil.class_id.in_(ids), Pupil.active.is_(True), pupil_scope(actor, P))
    pupils = dict(db.session.execute(select(Pupil.class_id, func.count(Pupil.id)).where(*scope)
                                     .group_by(Pupil.class_id)).all())
    screened = dict(db.session.execute(
        select(Pupil.class_id, func.count(func.distinct(ScreeningResult.pupil_id)))
        .join(ScreeningResult, ScreeningResult.pupil_id == Pupil.id).where(*scope).group_by(Pupil.class_id)).all())
    # Alerts reach their pupils only through keyed references: count a school's open alerts in Python.
    class_of = dict(db.session.execute(select(Pupil.id, Pupil.class_id).where(*scope)).all())
    alerts: dict[int, int] = {}
    for pupil_id, found in open_alerts_by_pupil(pupil_ids=list(class_of)).items():
        class_id = class_of[pupil_id]
        if class_id is not None:
            alerts[class_id] = alerts.get(class_id, 0) + len(found)
    return [ClassCounts(c.id, c.label, c.school_year_label, pupils.get(c.id, 0), screened.get(c.id, 0),
                        alerts.get(c.id, 0)) for c in classes]
