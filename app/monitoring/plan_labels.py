"""Words for the plans, follow-ups, contacts with parents and the chronology (staff's and the pupil's)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.monitoring.plan_models import ActionStatus, ContactWay, PlanKind, SafetySection

#: The steps of the plan as staff fill them in.
SECTION = {
    SafetySection.WARNING_SIGNS: _l("Warning signs"),
    SafetySection.COPING: _l("Things the pupil can do alone to cope"),
    SafetySection.DISTRACTION: _l("People and places that help take the mind off things"),
    SafetySection.PEOPLE: _l("Adults and people to ask for help"),
    SafetySection.PROFESSIONALS: _l("Professionals and helplines"),
    SafetySection.ENVIRONMENT: _l("Making the surroundings safe"),
}
#: What each step is for (a hint under the field). Safe messaging: no means or methods are written down.
SECTION_HINT = {
    SafetySection.WARNING_SIGNS: _l("Thoughts, feelings or situations that show a hard moment is starting, in the "
                                    "pupil’s own words."),
    SafetySection.COPING: _l("Things that calm or comfort the pupil: music, a walk, drawing, breathing."),
    SafetySection.DISTRACTION: _l("Friends, relatives and places (a club, a yard, a library) where the pupil "
                                  "feels better."),
    SafetySection.PEOPLE: _l("Trusted adults with a phone number: a parent, a relative, a teacher."),
    SafetySection.PROFESSIONALS: _l("The school psychologist and other specialists. The helplines 150, 111 and "
                                    "112 are always on the plan."),
    SafetySection.ENVIRONMENT: _l("What the family and the school agree to keep out of reach and who does it. "
                                  "Write the agreement, never details of any harm."),
}
#: The same steps in the pupil's words (the printed plan).
PUPIL_SECTION = {
    SafetySection.WARNING_SIGNS: _l("When I notice these signs, I use my plan"),
    SafetySection.COPING: _l("Things I can do on my own to feel better"),
    SafetySection.DISTRACTION: _l("People and places that help me think about something else"),
    SafetySection.PEOPLE: _l("Adults I can ask for help"),
    SafetySection.PROFESSIONALS: _l("Specialists and helplines I can call"),
    SafetySection.ENVIRONMENT: _l("How we keep my surroundings safe"),
}
ACTION_STATUS = {
    ActionStatus.PLANNED: _l("Planned"),
    ActionStatus.DONE: _l("Done"),
    ActionStatus.NOT_DONE: _l("Not done"),
    ActionStatus.CANCELLED: _l("Cancelled"),
}
PLAN_KIND = {PlanKind.SAFETY: _l("Safety plan"), PlanKind.SUPPORT: _l("Support plan")}
CONTACT_WAY = {
    ContactWay.MEETING: _l("Meeting at school"),
    ContactWay.PHONE: _l("Phone call"),
    ContactWay.MESSAGE: _l("Message"),
    ContactWay.HOME_VISIT: _l("Home visit"),
    ContactWay.LETTER: _l("Letter"),
}


def entry_types() -> dict[str, Any]:
    """The chronology's line types in words (the filter)."""
    from app.monitoring.chronology import EntryType

    return {
        EntryType.SCREENING: _l("Screenings"),
        EntryType.ALERT: _l("Alerts"),
        EntryType.REGISTRY: _l("Registry changes"),
        EntryType.CASE: _l("Case changes"),
        EntryType.NOTE: _l("Notes"),
        EntryType.PLAN: _l("Plans and their reviews"),
        EntryType.FOLLOWUP: _l("Follow-ups"),
        EntryType.PARENT_CONTACT: _l("Contacts with parents"),
    }
