"""Words for the roster sync's steps, counts, warnings and failures (kk/ru/en through the catalogues)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.core.i18n import format_short_datetime
from app.extensions import db
from app.kundelik.runs import KundelikSyncRun

STEPS = {
    "start": _l("Starting"),
    "classes": _l("Reading the classes"),
    "pupils": _l("Reading the pupils and their parents"),
    "saving": _l("Saving"),
    "done": _l("Finished"),
}

COUNTS = {
    "classes_new": _l("Classes added"),
    "classes_renamed": _l("Classes renamed"),
    "pupils_new": _l("Pupils added"),
    "pupils_moved": _l("Pupils moved to another class"),
    "pupils_updated": _l("Pupils with changed details"),
    "pupils_returned": _l("Pupils back at school"),
    "pupils_left": _l("Pupils marked as left"),
    "parents_new": _l("Parent accounts added"),
    "parents_found": _l("Parent accounts found by name and linked to Kundelik"),
    "parents_linked": _l("Parents linked to a child"),
    "parents_updated": _l("Parents with a changed name"),
    "teachers_new": _l("Class teacher accounts added"),
    "teachers_found": _l("Class teacher accounts found by name and linked to Kundelik"),
    "class_teachers_assigned": _l("Class teacher roles given"),
    "class_teachers_removed": _l("Class teacher roles taken back"),
    "pupils_unchanged": _l("Pupils unchanged"),
    "pupils_may_match": _l("Pupils to check (may be a pupil already in Senim)"),
}

REASONS = {
    "no_token": _l("Senim keeps no Kundelik sign-in for this. Sign in with Kundelik once (as the school's "
                   "administrator), then run the sync again."),
    "not_linked": _l("This school has no Kundelik ID. An administrator sets it on the school's page."),
    "unauthorized": _l("Kundelik did not accept the kept sign-in (it has expired or was withdrawn). Sign in with "
                       "Kundelik again, then run the sync again. Nothing was changed."),
    "unavailable": _l("Kundelik is not answering (maintenance or too many requests). Nothing was changed; try "
                      "again later."),
    "refused": _l("Kundelik refused a request for this school. Nothing was changed; check the school's Kundelik "
                  "ID."),
    "roster_errors": _l("Kundelik's roster has rows Senim cannot take (listed below). Nothing was changed."),
    "conflict": _l("Another change to the roster was saved meanwhile. Nothing was changed; run the sync again."),
    "interrupted": _l("The run was interrupted: the server process running it stopped or restarted. The sync saves "
                      "a school in one transaction, so nothing of this run was saved; run the sync again."),
    "error": _l("The sync stopped on an unexpected error. Nothing was changed."),
}

WARNINGS = {
    "parent_not_parent_account": _l("A parent in Kundelik is a staff or pupil account in Senim: not linked."),
    "own_account": _l("You are this class's class teacher in Kundelik: nobody gives themselves a role, ask an "
                      "administrator."),
    "teacher_not_staff": _l("This class's class teacher in Kundelik is a pupil's or a disabled account in Senim: "
                            "no role given."),
}

STATUS = {
    "running": _l("Running"),
    "succeeded": _l("Finished"),
    "failed": _l("Failed"),
    "interrupted": _l("Interrupted"),
}


def started_by(run: KundelikSyncRun) -> str:
    """Who started the run: the account's name, or "the command line"."""
    user = db.session.get(User, run.user_id) if run.user_id else None
    if user is None:
        return _("the command line")
    return user.display_name


def already_running(run: KundelikSyncRun, *, refused: bool = True) -> str:
    """The school's running run, when and by whom it was started; ``refused``: and that a start was refused."""
    when, who = format_short_datetime(run.started_at, "short"), started_by(run)
    if refused:
        return _("A sync of this school is already running, started at %(when)s by %(who)s. Nothing new was "
                 "started; wait for it to finish.", when=when, who=who)
    return _("A sync of this school is already running, started at %(when)s by %(who)s.", when=when, who=who)
