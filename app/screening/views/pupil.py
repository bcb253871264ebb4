"""Public pupil pages under /s, guarded by the one-time code (no account needed)."""

from __future__ import annotations

import secrets

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.core.i18n import LANGUAGE_NAMES
from app.core.routing import db_int
from app.screening import selfservice, services, stopping, text_status
from app.screening.forms import CodeForm, LanguageForm, QuestionForm, choices
from app.screening.instrument_model import Instrument, Item
from app.screening.launch import FollowUps
from app.screening.rules import Severity
from app.screening.scoring import ScoringInputError, visible_items
from app.screening.views import bp

KEY, DONE, ACUTE = selfservice.SESSION_KEY, "senim_screening_done", "senim_screening_acute"
#: Follow-up sittings still to take (uuids, in order); every follow-up sitting of this visit; an adult will come.
QUEUE, FOLLOWING, ADULT = "senim_screening_next", "senim_screening_following", "senim_screening_adult"
_CHAIN = (DONE, ACUTE, QUEUE, FOLLOWING, ADULT)
DEVICE = "senim_device"


def _current() -> selfservice.OpenSession:
    found = selfservice.session_by_uuid(session.get(KEY))
    if found is None:
        session.pop(KEY, None)
        abort(redirect(url_for("screening.enter_code")))
    return found


def _device() -> str:
    """A random id of this browser (in its session cookie), so one pupil's typos do not block the class."""
    if DEVICE not in session:
        session[DEVICE] = secrets.token_urlsafe(16)
    return str(session[DEVICE])


@bp.route("/s", methods=["GET", "POST"])
def enter_code() -> str | Response:
    form = CodeForm()
    if form.validate_on_submit():
        try:
            found = selfservice.open_by_code(code=form.code.data, ip=request.remote_addr or "", device=_device())
        except selfservice.CodeCompleted:
            form.code.errors.append(_("You have already completed this questionnaire. Thank you!"))
            return render_template("screening/pupil/code.html", form=form)
        if found is not None:
            session[KEY] = found.uuid
            for key in _CHAIN:
                session.pop(key, None)
            return redirect(url_for("screening.question" if found.language else "screening.choose_language"))
        form.code.errors.append(_("This code does not work. Check it, or ask the school psychologist."))
    return render_template("screening/pupil/code.html", form=form)


@bp.route("/s/language", methods=["GET", "POST"])
def choose_language() -> str | Response:
    current = _current()
    instrument = services.instrument_for(current.instrument_ref)
    form = LanguageForm()
    # Only the languages' names: what a text's status means is said, in plain words, above the questions.
    form.language.choices = choices([
        (lang, LANGUAGE_NAMES.get(lang, lang))
        for lang in ("kk", "ru", "en") if lang in instrument.texts and instrument.texts[lang].status != "not_available"
    ])
    if form.validate_on_submit():
        selfservice.choose_language(session=current, language=form.language.data)
        session["language"] = form.language.data  # the interface follows the chosen language
        return redirect(url_for("screening.question"))
    return render_template("screening/pupil/language.html", form=form)


def _position(shown: list[str], draft: dict, requested: int | None) -> int:
    if requested is not None and 1 <= requested <= len(shown):
        return requested
    for n, item_id in enumerate(shown, start=1):
        if draft.get(item_id) is None:
            return n
    return len(shown)


def _posted_answer(item: Item) -> int | None:
    """The posted answer if it is one of ``item``'s option values; None otherwise (the form then explains)."""
    try:
        value = int(request.form.get("answer", ""))
    except ValueError:
        return None
    return value if value in item.values else None


def _question_url(n: int) -> str:
    # The same page with another ?n= (url_for's route building is a visible share of an answer save).
    return f"{request.script_root}{request.path}?n={n}"


@bp.route("/s/q", methods=["GET", "POST"])
def question() -> str | Response:
    current = _current()
    if not current.language:
        return redirect(url_for("screening.choose_language"))
    instrument = services.instrument_for(current.instrument_ref)
    texts = instrument.text(current.language)
    draft = current.draft
    shown = visible_items(instrument, draft)
    n = _position(shown, draft, request.values.get("n", type=db_int))
    item = instrument.item(shown[n - 1])
    if request.method == "POST":
        if request.form.get("nav") == "back":
            return redirect(_question_url(max(1, n - 1)))
        value = _posted_answer(item)
        if value is not None:
            return _save_and_go_on(current, instrument, draft, n, item, value)
    form = QuestionForm()  # a GET, or a POST without a valid answer: the form shows what is wrong
    form.answer.choices = choices([(o.value, texts.options[item.option_set][o.id]) for o in item.options])
    form.answer.label.text = texts.items[item.id]
    if request.method == "POST":
        form.validate()
    elif draft.get(item.id) is not None:
        form.answer.data = draft[item.id]
    # The total never changes half-way: every item counts, and skip logic makes it "up to" that many.
    return render_template("screening/pupil/question.html", form=form, texts=texts, n=n, total=len(instrument.items),
                           up_to=instrument.has_skip_logic, last=n >= len(shown),
                           pupil_note=text_status.pupil_note(texts), acute=session.get(ACUTE, False),
                           follow_up=current.uuid in session.get(FOLLOWING, ()))


def _save_and_go_on(current: selfservice.OpenSession, instrument: Instrument, draft: dict[str, int | None], n: int,
                    item: Item, value: int) -> Response:
    """Save one answer, then the next question, the end of the questionnaire, or the first one unanswered.

    An answer that launches another instrument (PHQ-A question 9 → ASQ) leads there first; this sitting waits
    right after it, at its first unanswered question.
    """
    try:
        saved = services.save_answer(session=current, item_id=item.id, value=value)
    except (ScoringInputError, services.SessionClosed):
        abort(400)
    if any(a.severity == Severity.ACUTE for a in saved.alerts):
        session[ACUTE] = True
    if saved.follow_ups.adult_comes:
        session[ADULT] = True
    draft = services.with_answer(draft, item.id, value)  # as saved: no read-back after COMMIT
    shown = visible_items(instrument, draft)
    complete = n >= len(shown) and all(draft.get(i) is not None for i in shown if instrument.item(i).required)
    if saved.follow_ups.sessions and not complete:
        return _go_on(current, saved.follow_ups, resume=True)
    if n < len(shown):
        return redirect(_question_url(n + 1))
    if complete:
        submitted = services.submit_sitting(session=selfservice.load(current), answers=draft)
        if any(a.severity == Severity.ACUTE.value for a in submitted.result.alerts):
            session[ACUTE] = True
        return _go_on(current, saved.follow_ups.then(submitted.follow_ups))
    return redirect(url_for("screening.question"))


@bp.errorhandler(stopping.ScreeningStopped)
def _stopped(_error: stopping.ScreeningStopped) -> Response:
    """Consent ended: the sitting is stopped and nothing more is saved; the pupil sees a calm page, not why."""
    session.pop(KEY, None)  # an acute alert raised in this sitting stays, and so does its message (ACUTE)
    if request.endpoint == "screening.enter_code":
        # a code just typed: an earlier sitting's message (a shared device) is not for it
        session.pop(ACUTE, None)
        session.pop(ADULT, None)
    return redirect(url_for("screening.unavailable"))


@bp.route("/s/unavailable")
def unavailable() -> str:
    return render_template("screening/pupil/unavailable.html",
                           acute=session.get(ACUTE, False) or session.get(ADULT, False))


def _go_on(current: selfservice.OpenSession, follow_ups: FollowUps, *, resume: bool = False) -> Response:
    """After a sitting: the next follow-up sitting (launched now first, then those queued), else the end page.

    ``resume``: ``current`` is not finished (an answer launched the follow-ups): it comes right after them.
    """
    session.pop(KEY, None)
    if follow_ups.adult_comes:
        session[ADULT] = True
    if follow_ups.sessions:
        session[FOLLOWING] = [*session.get(FOLLOWING, ()), *(s.uuid for s in follow_ups.sessions)]
    waiting = [current.uuid] if resume else []
    queue = [s.uuid for s in follow_ups.sessions] + waiting + list(session.get(QUEUE, ()))
    while queue:
        found = selfservice.session_by_uuid(queue.pop(0))
        if found is not None:
            session[KEY], session[QUEUE] = found.uuid, queue
            return redirect(url_for("screening.question" if found.language else "screening.choose_language"))
    session.pop(QUEUE, None)
    session[DONE] = current.language
    return redirect(url_for("screening.finished"))


@bp.route("/s/pause", methods=["POST"])
def pause() -> str:
    session.pop(KEY, None)
    return render_template("screening/pupil/paused.html")


@bp.route("/s/done")
def finished() -> str | Response:
    language = session.get(DONE)
    if language is None:
        return redirect(url_for("screening.enter_code"))
    return render_template("screening/pupil/done.html", acute=session.get(ACUTE, False) or session.get(ADULT, False))
