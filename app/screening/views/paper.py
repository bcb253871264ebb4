"""Paper entry: the psychologist types a paper form's answers, keyboard-first, same validation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import RadioField
from wtforms.validators import Optional

from app.auth.permissions import Permission, get_pupil_or_404, require, visible_pupils
from app.consent import services as consent
from app.core.i18n import LANGUAGE_NAMES
from app.extensions import db
from app.screening import labels, launch, services
from app.screening.forms import PaperEntryForm, choices
from app.screening.instruments import UnknownInstrumentError
from app.screening.scoring import ScoringInputError
from app.screening.views import bp
from app.screening.views.campaigns import instrument_choices

P = Permission.SCREENING_ENTER


@bp.route("/screening/paper", methods=["GET"])
@require(P)
def paper_start() -> str | Response:
    pupils = list(db.session.execute(visible_pupils(current_user, P)).scalars())
    consented = consent.consented_pupil_ids(p.id for p in pupils)
    form = PaperEntryForm(request.args, meta={"csrf": False})
    form.pupil.choices = choices([(p.uuid, f"{p.short_name} ({p.school_class.label if p.school_class else '—'})")
                          for p in pupils if p.id in consented])
    form.instrument.choices = instrument_choices({p.school_id for p in pupils})
    form.language.choices = choices([(code, name) for code, name in LANGUAGE_NAMES.items()])
    # ?pupil=<uuid> alone (the pupil card's link) only preselects the pupil: no "required" errors yet.
    if request.args.keys() - {"pupil"} and form.validate():
        return redirect(url_for("screening.paper_entry", pupil_uuid=form.pupil.data,
                                instrument=form.instrument.data, language=form.language.data))
    return render_template("screening/paper_start.html", form=form, missing=len(pupils) - len(consented))


def _items_form(instrument, texts):
    class ItemsForm(FlaskForm):
        pass

    for number, item in enumerate(instrument.items, start=1):
        options = [(str(o.value), f"{o.value} · {texts.options[item.option_set][o.id]}") for o in item.options]
        setattr(ItemsForm, f"item_{item.id}", RadioField(f"{number}. {texts.items[item.id]}", choices=choices(options),
                                                         validators=[Optional()]))
    return ItemsForm


@bp.route("/screening/paper/<pupil_uuid>", methods=["GET", "POST"])
@require(P)
def paper_entry(pupil_uuid: str) -> str | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P)
    try:
        instrument = services.instrument_for(request.args.get("instrument", ""), for_school=pupil.school_id)
        language = request.args.get("language", "ru")
        texts = instrument.text(language)
    except UnknownInstrumentError:
        abort(404)
    if not consent.has_valid_consent(pupil):
        flash(_("This pupil has no valid parental consent. Record the consent before entering answers."), "error")
        return redirect(url_for("screening.paper_start"))
    form = _items_form(instrument, texts)()
    if form.validate_on_submit():
        answers = {item.id: int(getattr(form, f"item_{item.id}").data) for item in instrument.items
                   if getattr(form, f"item_{item.id}").data not in (None, "", "None")}
        try:
            result = services.submit_result(actor=current_user, session=None, answers=answers, pupil=pupil,
                                            instrument=instrument, language=language)
        except ScoringInputError:
            form.form_errors.append(_("Some answers are not valid for this questionnaire."))
        else:
            flash(_("Answers saved."), "success")
            alerts = result.alerts
            if alerts:
                flash(_("This form raised an alert: see the alert inbox."), "warning")
            for target in launch.paper_follow_ups(instrument=instrument, school_id=pupil.school_id,
                                                  rule_ids={r for a in alerts for r in a.details.rules}):
                _flash_give_now(pupil.uuid, target.ref, language)
            return redirect(url_for("screening.pupil_results", pupil_uuid=pupil.uuid))
    age = pupil.age_on(consent.today_local())
    return render_template("screening/paper_entry.html", form=form, pupil=pupil, instrument=instrument, texts=texts,
                           age=age, outside_age=services.outside_age_range(instrument, age))


def _flash_give_now(pupil_uuid: str, ref: str, language: str) -> None:
    """Tell the psychologist to give the instrument a rule launched (PHQ-A question 9 → ASQ), with its form."""
    title = labels.instrument_title(ref)
    url = url_for("screening.paper_entry", pupil_uuid=pupil_uuid, instrument=ref, language=language)
    flash(Markup('{} <a href="{}">{}</a>').format(
        _("These answers call for the %(instrument)s at once: give it to the pupil now.", instrument=title),
        url, _("Enter the %(instrument)s for this pupil", instrument=title)), "warning")
