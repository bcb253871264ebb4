"""Campaign planning, campaign page with consent status, issuing (replacing) and printing one-time codes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth.permissions import (
    Permission,
    deny_404,
    require,
    school_scope,
    scoped_or_404,
    visible_classes,
    visible_pupils,
    visible_schools,
)
from app.core.links import absolute_url
from app.core.models import Pupil, School, SchoolClass
from app.extensions import db
from app.screening import campaigns as services
from app.screening import cards, labels, local
from app.screening.forms import CampaignForm, CardsPrintedForm, IssueCodesForm, choices
from app.screening.models import Campaign, CodeBatch
from app.screening.services import registry
from app.screening.views import bp

P = Permission.SCREENING_CAMPAIGNS


def get_campaign_or_404(campaign_uuid: str, permission: Permission = P) -> Campaign:
    """A campaign of a school in the user's scope, else an audited 404."""
    schools = select(School.id).where(school_scope(current_user, permission))
    query = select(Campaign).where(Campaign.uuid == campaign_uuid, Campaign.school_id.in_(schools))
    return scoped_or_404(current_user, query, permission=permission, object_type="campaign",
                         object_id=campaign_uuid,
                         school_of=select(Campaign.school_id).where(Campaign.uuid == campaign_uuid))


def instrument_choices(school_ids: Iterable[int] = ()) -> list:
    """Active instruments (title in the interface language) with the status of each language's texts, then the local
    methods of ``school_ids`` (labelled not validated)."""
    result = []
    for instrument in registry().current():
        if instrument.status != "active" or not instrument.licence.electronic_use_allowed:
            continue
        # Short enough for a phone: every listed licence allows electronic use (the form's hint says so).
        langs = ", ".join(f"{lang}: {labels.text_status_short(instrument.texts[lang].status)}"
                          for lang in sorted(instrument.texts))
        texts = labels.texts_for(instrument)
        label = _("%(title)s (%(ref)s). Texts: %(langs)s",
                  title=texts.title if texts else instrument.ref, ref=instrument.ref, langs=langs)
        result.append((instrument.ref, label))
    return choices(result + local.choices(set(school_ids)))


def _local(day, end: bool) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(23, 59, 59) if end else time(0, 0), tzinfo=zone)


@bp.route("/screening/campaigns")
@require(P)
def campaign_list() -> str:
    schools = select(School.id).where(school_scope(current_user, P))
    campaigns = list(db.session.execute(
        select(Campaign).where(Campaign.school_id.in_(schools)).order_by(Campaign.opens_at.desc())).scalars())
    titles = {ref: labels.instrument_title(ref) for c in campaigns for ref in c.instrument_refs}
    return render_template("screening/campaign_list.html", campaigns=campaigns, titles=titles)


@bp.route("/screening/campaigns/new", methods=["GET", "POST"])
@require(P)
def campaign_new() -> str | Response:
    school = db.session.execute(visible_schools(current_user, P).order_by(School.id)).scalars().first()
    if school is None:
        abort(404)
    form = CampaignForm()
    form.instruments.choices = instrument_choices([school.id])
    classes = list(db.session.execute(
        visible_classes(current_user, P).where(SchoolClass.school_id == school.id)
        .order_by(SchoolClass.school_year.desc(), SchoolClass.grade, SchoolClass.letter)).scalars())
    form.classes.choices = choices([(c.id, f"{c.label} ({c.school_year_label})") for c in classes])
    if form.validate_on_submit():
        chosen = [c for c in classes if c.id in form.classes.data]
        campaign = services.create_campaign(
            actor=current_user, school=school, title=form.title.data, instrument_refs=form.instruments.data,
            classes=chosen, opens_at=_local(form.opens_on.data, False), closes_at=_local(form.closes_on.data, True),
            mode=form.mode.data)
        flash(_("Campaign planned."), "success")
        pupils = list(db.session.execute(visible_pupils(current_user, P).where(
            Pupil.class_id.in_([c.id for c in chosen]), Pupil.active.is_(True))).scalars())
        for ref, count in services.age_range_report(campaign, pupils, campaign.opens_at.date()).items():
            instrument = services.instrument_for(ref)
            flash(ngettext("%(num)d pupil is outside the ages of %(title)s (%(min)s to %(max)s years) and will get "
                           "no code for it.",
                           "%(num)d pupils are outside the ages of %(title)s (%(min)s to %(max)s years) and will "
                           "get no code for it.", count, title=labels.instrument_title(ref),
                           min=instrument.min_age, max=instrument.max_age), "warning")
        return redirect(url_for("screening.campaign_detail", campaign_uuid=campaign.uuid))
    return render_template("screening/campaign_form.html", form=form, school=school)


@bp.route("/screening/campaigns/<campaign_uuid>")
@require(P)
def campaign_detail(campaign_uuid: str) -> str:
    campaign = get_campaign_or_404(campaign_uuid)
    rows = services.campaign_pupils(actor=current_user, campaign=campaign)
    form = IssueCodesForm()
    form.pupils.choices = choices([(r.pupil.uuid, r.pupil.short_name) for r in rows if r.consented])
    refs = dict.fromkeys([*campaign.instrument_refs, *(s.instrument_ref for r in rows for s in r.sessions)])
    instruments = {ref: (labels.instrument_title(ref), labels.instrument_version(ref)) for ref in refs}
    return render_template("screening/campaign_detail.html", campaign=campaign, rows=rows, form=form,
                           instruments=instruments, missing=sum(1 for r in rows if not r.consented),
                           batches=cards.open_batches(actor=current_user, campaign=campaign))


@bp.route("/screening/campaigns/<campaign_uuid>/codes", methods=["POST"])
@require(P)
def campaign_issue_codes(campaign_uuid: str) -> str | Response:
    campaign = get_campaign_or_404(campaign_uuid)
    rows = {r.pupil.uuid: r for r in services.campaign_pupils(actor=current_user, campaign=campaign)}
    form = IssueCodesForm()
    form.pupils.choices = choices([(u, r.pupil.short_name) for u, r in rows.items()])
    back = redirect(url_for("screening.campaign_detail", campaign_uuid=campaign.uuid))
    if not form.validate_on_submit():
        flash(_("Choose at least one pupil with consent."), "error")
        return back
    pupils = [rows[u].pupil for u in form.pupils.data]
    try:
        issued = services.issue_codes(actor=current_user, campaign=campaign, pupils=pupils,
                                      replace=bool(form.replace.data))
    except services.NoValidConsent:
        db.session.rollback()
        flash(_("Codes can only be issued to pupils whose parents have consented. Record the consent first."),
              "error")
        return back
    except services.ReplaceNotConfirmed:
        db.session.rollback()
        plans = [plan for plan in services.plan_issue(campaign=campaign, pupils=pupils) if plan.replace]
        titles = {s.instrument_ref: labels.instrument_title(s.instrument_ref) for p in plans for s in p.replace}
        return render_template("screening/codes_confirm.html", campaign=campaign, form=form, plans=plans,
                               pupils=pupils, titles=titles)
    if issued.batch is None:
        flash(_("Nothing to issue: the chosen pupils have completed every questionnaire of this campaign."), "info")
        return back
    if issued.replaced:
        flash(ngettext("%(num)d old code was replaced and no longer works.",
                       "%(num)d old codes were replaced and no longer work.", issued.replaced), "success")
    return redirect(url_for("screening.code_cards", campaign_uuid=campaign.uuid, batch_uuid=issued.batch.uuid))


def _get_batch_or_404(campaign: Campaign, batch_uuid: str) -> CodeBatch:
    """A batch of ``campaign`` issued by the current user (codes are for their issuer only), else an audited 404."""
    batch = db.session.execute(select(CodeBatch).where(
        CodeBatch.uuid == batch_uuid, CodeBatch.campaign_id == campaign.id,
        CodeBatch.created_by_id == current_user.id)).scalar_one_or_none()
    if batch is None:
        deny_404(current_user, permission=P, object_type="code_batch", object_id=batch_uuid,
                 school_of=select(CodeBatch.school_id).where(CodeBatch.uuid == batch_uuid))
    return batch


@bp.route("/screening/campaigns/<campaign_uuid>/cards/<batch_uuid>")
@require(P)
def code_cards(campaign_uuid: str, batch_uuid: str) -> str:
    """The printable cards of one issue: survives a reload and a change of language until printed or expired."""
    campaign = get_campaign_or_404(campaign_uuid)
    batch = _get_batch_or_404(campaign, batch_uuid)
    separate = request.args.get("layout") == "separate"
    shown = [(card.pupil, [(_instrument_title(ref, _class_language(card.pupil)), code) for ref, code in card.codes])
             for card in cards.read_cards(actor=current_user, batch=batch)]
    return render_template("screening/codes_print.html", campaign=campaign, batch=batch, cards=shown,
                           separate=separate, printed_form=CardsPrintedForm(),
                           url=absolute_url("screening.enter_code"))


@bp.route("/screening/campaigns/<campaign_uuid>/cards/<batch_uuid>/printed", methods=["POST"])
@require(P)
def code_cards_printed(campaign_uuid: str, batch_uuid: str) -> Response:
    campaign = get_campaign_or_404(campaign_uuid)
    batch = _get_batch_or_404(campaign, batch_uuid)
    if CardsPrintedForm().validate_on_submit():
        cards.mark_printed(actor=current_user, batch=batch)
        flash(_("Cards marked as printed: their codes are deleted from the server. To replace a lost card, issue "
                "the pupil a new code."), "success")
    return redirect(url_for("screening.campaign_detail", campaign_uuid=campaign.uuid))


def _class_language(pupil: Pupil) -> str | None:
    return pupil.school_class.language if pupil.school_class else None


def _instrument_title(ref: str, language: str | None) -> str:
    """The title in the class's language of instruction (kk or ru), else Russian, else English."""
    from app.screening.services import instrument_for

    instrument = instrument_for(ref)
    for lang in (language, "ru", "en"):
        if lang and lang in instrument.texts and instrument.texts[lang].status != "not_available":
            return instrument.texts[lang].title
    return instrument.text("en").title
