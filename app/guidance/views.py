"""Guidance library pages: reading by audience (parents, staff, pupils), and writing, reviewing and publishing
for psychologists (their school's articles) and admins (national ones)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin.forms import choices
from app.auth.permissions import (
    Permission,
    get_article_to_edit_or_404,
    get_class_or_404,
    get_published_article_or_404,
    guidance_audiences,
    guidance_edit_schools,
    has_permission,
    require,
    visible_classes,
    visible_pupils,
)
from app.core.conflict_page import render_conflict
from app.core.models import Pupil, School
from app.extensions import db
from app.guidance import labels, services
from app.guidance.forms import ArticleForm, RecommendForm, SearchForm, StepForm
from app.guidance.models import LANGUAGES, Article, Status
from app.monitoring.conflicts import EditConflict

bp = Blueprint("guidance", __name__, template_folder="templates")

P = Permission
#: Reading endpoints by audience: (list, article page).
READERS = {"parents": ("guidance.parents", "guidance.parents_article"),
           "teachers": ("guidance.staff", "guidance.staff_article"),
           "pupils": ("guidance.pupils", "guidance.pupils_article")}


@bp.record_once
def _register(state: Any) -> None:
    state.app.jinja_env.globals["guidance_chosen_for"] = _chosen_for_template
    from app.core import demo

    demo.register_after_create("guidance", _import_after_demo)


def _import_after_demo() -> str:
    from app.guidance.importer import import_content

    return import_content().summary()


def _language() -> str:
    language = str(get_locale() or "kk")
    return language if language in LANGUAGES else "kk"


def _chosen_for_template(pupil: Any) -> list[services.Chosen]:
    return services.chosen_for(pupil, language=_language())


# --- reading ---------------------------------------------------------------------------------------


@bp.route("/guidance")
@require(P.GUIDANCE_READ)
def library() -> str | Response:
    """The library's front page: the audiences the reader may open (a parent goes straight to theirs)."""
    audiences = guidance_audiences(current_user)
    if audiences == ["parents"]:
        return redirect(url_for("guidance.parents"))
    return render_template("guidance/library.html", audiences=audiences, readers=READERS,
                           can_write=has_permission(current_user, P.GUIDANCE_WRITE),
                           labels=labels.template_labels())


def _list(audience: str) -> str:
    form = SearchForm(request.args)
    valid = form.validate()
    query = (form.q.data or "").strip() if valid else ""
    topic = form.topic.data if valid and form.topic.data else None
    cards = services.library(reader=current_user, audience=audience, language=_language(), topic=topic,
                             query=query)
    template = "guidance/pupils_list.html" if audience == "pupils" else "guidance/list.html"
    return render_template(template, audience=audience, cards=cards, form=form, query=query, topic=topic,
                           topics=services.topics_with_articles(reader=current_user, audience=audience),
                           list_endpoint=READERS[audience][0], article_endpoint=READERS[audience][1],
                           language=_language(), labels=labels.template_labels())


@bp.route("/guidance/parents")
@require(P.GUIDANCE_READ)
def parents() -> str:
    return _list("parents")


@bp.route("/guidance/staff")
@require(P.GUIDANCE_STAFF_READ)
def staff() -> str:
    return _list("teachers")


@bp.route("/guidance/pupils")
@require(P.GUIDANCE_PUPIL_READ)
def pupils() -> str:
    return _list("pupils")


def _article(audience: str, article_uuid: str) -> str:
    article, version = get_published_article_or_404(current_user, article_uuid, audience)
    wanted = _language()
    shown = version.shown_language(wanted)
    template = "guidance/pupils_article.html" if audience == "pupils" else "guidance/article.html"
    return render_template(template, article=article, version=version, language=shown, wanted=wanted,
                           translation=version.text("translation", shown), audience=audience,
                           list_endpoint=READERS[audience][0],
                           can_recommend=audience == "parents" and has_permission(current_user, P.GUIDANCE_RECOMMEND),
                           labels=labels.template_labels())


@bp.route("/guidance/parents/<article_uuid>")
@require(P.GUIDANCE_READ)
def parents_article(article_uuid: str) -> str:
    return _article("parents", article_uuid)


@bp.route("/guidance/staff/<article_uuid>")
@require(P.GUIDANCE_STAFF_READ)
def staff_article(article_uuid: str) -> str:
    return _article("teachers", article_uuid)


@bp.route("/guidance/pupils/<article_uuid>")
@require(P.GUIDANCE_PUPIL_READ)
def pupils_article(article_uuid: str) -> str:
    return _article("pupils", article_uuid)


@bp.route("/parents/guidance")
@require(P.GUIDANCE_READ)
def old_list() -> Response:
    """The former parents' guidance list: now the library."""
    return redirect(url_for("guidance.parents"))


@bp.route("/parents/guidance/<slug>")
@require(P.GUIDANCE_READ)
def old_article(slug: str) -> Response:
    """A former parents' article (now a content file with the same name): its page in the library."""
    found = db.session.execute(select(Article.uuid).where(Article.slug == slug[:80],
                                                          Article.school_id.is_(None))).scalar()
    if found is None:
        return redirect(url_for("guidance.parents"))
    return redirect(url_for("guidance.parents_article", article_uuid=found))


# --- writing and reviewing ------------------------------------------------------------------------


@bp.route("/guidance/manage")
@require(P.GUIDANCE_WRITE)
def manage() -> str:
    articles = services.editable_articles(actor=current_user)
    waiting = [a for a in articles if a.status == Status.REVIEW.value and services.can_review(current_user, a)]
    return render_template("guidance/manage.html", articles=articles, waiting=waiting, language=_language(),
                           labels=labels.template_labels())


def _owner_choices() -> list[tuple[int, str]]:
    owners: list[tuple[int, str]] = []
    if has_permission(current_user, P.GUIDANCE_NATIONAL):
        owners.append((0, _("National (all schools)")))
    for school_id in guidance_edit_schools(current_user):
        school = db.session.get(School, school_id)
        if school is not None:
            owners.append((school.id, school.name))
    return owners


@bp.route("/guidance/manage/new", methods=["GET", "POST"])
@require(P.GUIDANCE_WRITE)
def new() -> str | Response | tuple[str, int]:
    owners = _owner_choices()
    if not owners:
        abort(403)
    form = ArticleForm()
    owner = request.form.get("owner", type=int) if request.method == "POST" else owners[0][0]
    if form.validate_on_submit():
        if owner not in {o[0] for o in owners}:
            abort(400)
        school = db.session.get(School, owner) if owner else None
        try:
            article = services.create_article(actor=current_user, school=school, data=form.draft())
        except services.GuidanceError as error:
            flash(str(error), "error")
        else:
            flash(_("Draft saved."), "success")
            return redirect(url_for("guidance.article_admin", article_uuid=article.uuid))
    status = 400 if request.method == "POST" else 200
    return render_template("guidance/edit.html", form=form, article=None, owners=owners, owner=owner,
                           labels=labels.template_labels()), status


@bp.route("/guidance/manage/<article_uuid>")
@require(P.GUIDANCE_WRITE)
def article_admin(article_uuid: str) -> str:
    article = get_article_to_edit_or_404(current_user, article_uuid)
    return _admin_page(article, article.latest)


def _admin_page(article: Article, version: Any) -> str:
    form = StepForm(formdata=None, data={"version": article.version})
    return render_template("guidance/admin_article.html", article=article, version=version, form=form,
                           can_review=services.can_review(current_user, article), language=_language(),
                           labels=labels.template_labels())


@bp.route("/guidance/manage/<article_uuid>/versions")
@require(P.GUIDANCE_WRITE)
def history(article_uuid: str) -> str:
    article = get_article_to_edit_or_404(current_user, article_uuid)
    return render_template("guidance/history.html", article=article, language=_language(),
                           labels=labels.template_labels())


@bp.route("/guidance/manage/<article_uuid>/versions/<int:number>")
@require(P.GUIDANCE_WRITE)
def version_view(article_uuid: str, number: int) -> str:
    article = get_article_to_edit_or_404(current_user, article_uuid)
    version = next((v for v in article.versions if v.number == number), None)
    if version is None:
        abort(404)
    return _admin_page(article, version)


def _conflict(article: Article, form: ArticleForm) -> tuple[str, int]:
    current = article.latest
    rows = []
    for lang in LANGUAGES:
        for name, label in (("title", _("Title")), ("summary", _("Summary")), ("body", _("Text"))):
            mine = getattr(form, f"{name}_{lang}").data or None
            theirs = current.text(name, lang) or None
            rows.append((f"{label} ({labels.LANGUAGE_NAMES[lang]})", mine, theirs))
    return render_conflict(title=_("Someone changed this article while you were editing"), form=form,
                           action=request.path, record=article, rows=rows,
                           back=url_for("guidance.article_admin", article_uuid=article.uuid))


@bp.route("/guidance/manage/<article_uuid>/edit", methods=["GET", "POST"])
@require(P.GUIDANCE_WRITE)
def edit(article_uuid: str) -> str | Response | tuple[str, int]:
    article = get_article_to_edit_or_404(current_user, article_uuid)
    if request.method == "GET":
        form = ArticleForm(formdata=None, data={**ArticleForm.data_of(article.latest), "version": article.version})
        return render_template("guidance/edit.html", form=form, article=article, owners=[], owner=None,
                               labels=labels.template_labels())
    form = ArticleForm()
    if form.validate_on_submit():
        try:
            services.save_version(actor=current_user, article=article, version=form.version.data,
                                  data=form.draft())
        except EditConflict:
            return _conflict(article, form)
        except services.GuidanceError as error:
            flash(str(error), "error")
        else:
            flash(_("Saved as a new version."), "success")
            return redirect(url_for("guidance.article_admin", article_uuid=article.uuid))
    return render_template("guidance/edit.html", form=form, article=article, owners=[], owner=None,
                           labels=labels.template_labels()), 400


_STEPS = {"submit": services.submit, "archive": services.archive, "restore": services.restore}
_REVIEW_STEPS = {"publish": services.publish, "return": services.send_back}
_DONE = {"submit": _l("Sent for review."), "archive": _l("Archived: readers no longer see it."),
         "restore": _l("Taken out of the archive as a draft."),
         "publish": _l("Published: readers now see this version."),
         "return": _l("Sent back to the author as a draft.")}


def _run_step(article: Article, step: Any, name: str) -> Response:
    form = StepForm()
    back = redirect(url_for("guidance.article_admin", article_uuid=article.uuid))
    if not form.validate_on_submit():
        abort(400)
    try:
        step(actor=current_user, article=article, version=form.version.data)
    except EditConflict:
        flash(_("The article changed after you opened it: nothing was done. Check it and try again."), "warning")
        return back
    except services.GuidanceError as error:
        flash(str(error), "error")
        return back
    flash(str(_DONE[name]), "success")
    return back


@bp.route("/guidance/manage/<article_uuid>/<step>", methods=["POST"])
@require(P.GUIDANCE_WRITE)
def step(article_uuid: str, step: str) -> Response:
    if step not in _STEPS:
        abort(404)
    article = get_article_to_edit_or_404(current_user, article_uuid)
    return _run_step(article, _STEPS[step], step)


@bp.route("/guidance/review/<article_uuid>/<step>", methods=["POST"])
@require(P.GUIDANCE_REVIEW)
def review(article_uuid: str, step: str) -> Response:
    if step not in _REVIEW_STEPS:
        abort(404)
    article = get_article_to_edit_or_404(current_user, article_uuid, P.GUIDANCE_REVIEW)
    return _run_step(article, _REVIEW_STEPS[step], step)


# --- chosen for parents ---------------------------------------------------------------------------


@bp.route("/guidance/recommend/<article_uuid>", methods=["GET", "POST"])
@require(P.GUIDANCE_RECOMMEND)
def recommend(article_uuid: str) -> str | Response | tuple[str, int]:
    article, version = get_published_article_or_404(current_user, article_uuid, "parents")
    classes = list(db.session.execute(visible_classes(current_user, P.GUIDANCE_RECOMMEND)).scalars())
    classes.sort(key=lambda c: (c.grade, c.letter))
    pupils = list(db.session.execute(visible_pupils(current_user, P.GUIDANCE_RECOMMEND)).scalars())
    pupils.sort(key=lambda p: (p.school_class.grade if p.school_class else 0, p.full_name))
    form = RecommendForm()
    form.class_id.choices = choices((c.id, c.label) for c in classes)
    form.pupil_id.choices = choices([(0, _("All pupils of the class")),
                                     *((p.id, f"{p.full_name} ({p.school_class.label if p.school_class else '—'})")
                                       for p in pupils)])
    if form.validate_on_submit():
        school_class = get_class_or_404(current_user, form.class_id.data, P.GUIDANCE_RECOMMEND)
        chosen: list[Pupil] = [p for p in pupils if p.class_id == school_class.id
                               and (form.pupil_id.data in (0, p.id))]
        if form.pupil_id.data and not chosen:
            form.pupil_id.errors.append(_("This pupil is not in the chosen class."))
        else:
            try:
                added = services.recommend(actor=current_user, article=article, pupils=chosen)
            except services.GuidanceError as error:
                flash(str(error), "error")
            else:
                flash(ngettext("Chosen for the parents of %(num)d pupil.",
                               "Chosen for the parents of %(num)d pupils.", added), "success")
                return redirect(url_for("guidance.parents_article", article_uuid=article.uuid))
    status = 400 if request.method == "POST" else 200
    return render_template("guidance/recommend.html", form=form, article=article, version=version,
                           language=version.shown_language(_language())), status
