"""What the monitoring codes are called in the interface language (risk as words, never a number)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from app.monitoring.models import (
    CaseEventKind,
    CaseOrigin,
    CaseStatus,
    RegistryEventKind,
    RegistryKind,
    RegistryReason,
    RiskLevel,
    TeamRole,
)

RISK = {
    RiskLevel.LOW: _l("Low risk"),
    RiskLevel.MODERATE: _l("Moderate risk"),
    RiskLevel.HIGH: _l("High risk"),
    RiskLevel.ACUTE: _l("Acute risk"),
}
#: Badge colour of each risk level (the text is always shown too).
RISK_BADGE = {RiskLevel.LOW: "info", RiskLevel.MODERATE: "warning", RiskLevel.HIGH: "danger",
              RiskLevel.ACUTE: "danger"}

STATUS = {
    CaseStatus.OPEN: _l("Open"),
    CaseStatus.ACTIVE: _l("Active monitoring"),
    CaseStatus.REVIEW: _l("Under review"),
    CaseStatus.CLOSED: _l("Closed"),
}
#: The button text for moving to a status.
STATUS_ACTION = {
    CaseStatus.OPEN: _l("Reopen the case"),
    CaseStatus.ACTIVE: _l("Start active monitoring"),
    CaseStatus.REVIEW: _l("Send for review"),
    CaseStatus.CLOSED: _l("Close the case"),
}

ORIGIN = {
    CaseOrigin.ALERT: _l("A screening alert"),
    CaseOrigin.REGISTRY: _l("A registry entry"),
    CaseOrigin.REFERRAL: _l("A referral"),
    CaseOrigin.REQUEST: _l("The pupil asked for help"),
    CaseOrigin.MANUAL: _l("Opened by hand"),
}

TEAM_ROLE = {
    TeamRole.PSYCHOLOGIST: _l("Psychologist"),
    TeamRole.SOCIAL_PEDAGOGUE: _l("Social pedagogue"),
    TeamRole.ADMINISTRATOR: _l("School administrator"),
}

REGISTRY_KIND = {
    RegistryKind.POLICE: _l("Police juvenile registry"),
    RegistryKind.SCHOOL: _l("Intra-school registry"),
    RegistryKind.COMMISSION: _l("Juvenile affairs commission list"),
}

REGISTRY_REASON = {
    RegistryReason.OFFENCE: _l("Offence"),
    RegistryReason.TRUANCY: _l("Missing school without a valid reason"),
    RegistryReason.SUBSTANCE_USE: _l("Alcohol, drugs or other substances"),
    RegistryReason.SELF_HARM: _l("Self-harm"),
    RegistryReason.SUICIDAL_BEHAVIOUR: _l("Suicidal behaviour"),
    RegistryReason.VIOLENCE: _l("Violence or bullying"),
    RegistryReason.RUNNING_AWAY: _l("Running away from home"),
    RegistryReason.FAMILY_SITUATION: _l("Family in a socially dangerous situation"),
    RegistryReason.OTHER: _l("Other"),
}

CASE_EVENT = {
    CaseEventKind.OPENED: _l("Case opened"),
    CaseEventKind.RISK: _l("Risk level changed"),
    CaseEventKind.STATUS: _l("Status changed"),
    CaseEventKind.REVIEW_DATE: _l("Next review date set"),
    CaseEventKind.MEMBER_ADDED: _l("Added to the team"),
    CaseEventKind.MEMBER_REMOVED: _l("Taken off the team"),
    CaseEventKind.ALERT_LINKED: _l("Screening alert added to the case"),
    CaseEventKind.TRANSFERRED: _l("Case moved to another school"),
}

REGISTRY_EVENT = {
    RegistryEventKind.CREATED: _l("Registered"),
    RegistryEventKind.UPDATED: _l("Changed"),
    RegistryEventKind.DEREGISTERED: _l("Deregistered"),
}


def label(table: dict[Any, Any], code: str | None) -> str:
    """The label of ``code`` in ``table``, or the code itself for a value this version does not know."""
    if code is None:
        return "—"
    for key, text in table.items():
        if key.value == code:
            return str(text)
    return code


def as_date(text: str | None) -> date | None:
    """A date kept as ISO text inside an encrypted record (history snapshots), for the date filters."""
    return date.fromisoformat(text) if text else None


def template_labels() -> dict[str, Any]:
    """Everything templates need to name monitoring codes."""
    return {"risk": RISK, "risk_badge": RISK_BADGE, "status": STATUS, "status_action": STATUS_ACTION,
            "origin": ORIGIN, "team_role": TEAM_ROLE, "registry_kind": REGISTRY_KIND,
            "registry_reason": REGISTRY_REASON, "case_event": CASE_EVENT, "registry_event": REGISTRY_EVENT,
            "label": label, "as_date": as_date}


@dataclass(frozen=True)
class CaseloadWords:
    """The words of the caseload's badges, looked up once per page: risk level → (words, badge kind), status →
    words."""

    risk: dict[str, tuple[str, str]]
    status: dict[str, str]


def caseload_words() -> CaseloadWords:
    """The caseload's badge words in the current language."""
    return CaseloadWords(risk={r.value: (label(RISK, r.value), label(RISK_BADGE, r.value)) for r in RiskLevel},
                         status={s.value: label(STATUS, s.value) for s in CaseStatus})
