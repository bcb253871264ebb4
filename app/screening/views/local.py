"""Local methods: list, upload (four files or one zip), detail in three languages, retire, template."""

from __future__ import annotations

import io
from itertools import groupby

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField

from app.auth.permissions import Permission, require, school_scope, scoped_or_404, visible_schools
from app.core.i18n import LANGUAGE_NAMES
from app.core.models import School
from app.extensions import db
from app.screening import local as services
from app.screening.forms import choices
from app.screening.models import LocalInstrument
from app.screening.views import bp

P = Permission.SCREENING_UPLOAD


class LocalUploadForm(FlaskForm):
    school = SelectField(_l("School"), coerce=int)
    instrument = FileField(_l("instrument.yaml: questions, answer options, scoring and alert rules"))
    texts_kk = FileField(_l("texts.kk.yaml: Kazakh texts"))
    texts_ru = FileField(_l("texts.ru.yaml: Russian texts"))
    texts_en = FileField(_l("texts.en.yaml: English texts"))
    archive = FileField(_l("Or instead: one .zip file holding the four files"))


class RetireForm(FlaskForm):
    pass


#: Upload fields and the file each one carries.
FILE_FIELDS = {"instrument": "instrument.yaml", "texts_kk": "texts.kk.yaml", "texts_ru": "texts.ru.yaml",
               "texts_en": "texts.en.yaml"}


def _bytes(field: FileField) -> bytes | None:
    """The upload's bytes, read no further than one byte past the limit (the service reports the size)."""
    if not field.data:
        return None
    limit = services.MAX_ARCHIVE_BYTES if field.name == "archive" else services.MAX_FILE_BYTES
    return field.data.stream.read(limit + 1)


def _schools_in_scope():
    return select(School.id).where(school_scope(current_user, P))


def get_local_or_404(local_uuid: str) -> LocalInstrument:
    """A local method of a school in the user's scope, else an audited 404."""
    query = select(LocalInstrument).where(LocalInstrument.uuid == local_uuid,
                                          LocalInstrument.school_id.in_(_schools_in_scope()))
    return scoped_or_404(current_user, query, permission=P, object_type="local_instrument", object_id=local_uuid,
                         school_of=select(LocalInstrument.school_id).where(LocalInstrument.uuid == local_uuid))


@bp.route("/screening/local")
@require(P)
def local_list() -> str:
    methods = services.school_methods(_schools_in_scope())
    return render_template("screening/local_list.html", methods=methods,
                           titles={m.id: services.title(services.instrument_of(m)) for m in methods},
                           many_schools=len({m.school_id for m in methods}) > 1)


@bp.route("/screening/local/upload", methods=["GET", "POST"])
@require(P)
def local_upload() -> str | Response:
    schools = list(db.session.execute(visible_schools(current_user, P).order_by(School.id)).scalars())
    if not schools:
        abort(404)
    form = LocalUploadForm()
    form.school.choices = choices([(s.id, s.name) for s in schools])
    if len(schools) == 1:
        del form.school
    problems: list[services.Problem] = []
    if form.validate_on_submit():
        school = schools[0] if len(schools) == 1 else next(s for s in schools if s.id == form.school.data)
        try:
            local = services.upload(actor=current_user, school=school, archive=_bytes(form.archive),
                                    files={name: _bytes(getattr(form, f)) for f, name in FILE_FIELDS.items()})
        except services.LocalUploadError as exc:
            problems = exc.problems
        else:
            flash(_("Local method saved. It is always shown as not validated."), "success")
            return redirect(url_for("screening.local_detail", local_uuid=local.uuid))
    grouped = [(name, list(items)) for name, items in groupby(problems, key=lambda p: p.file)]
    return render_template("screening/local_upload.html", form=form, problems=grouped,
                           school=schools[0] if len(schools) == 1 else None,
                           max_kb=services.MAX_FILE_BYTES // 1024)


@bp.route("/screening/local/template.zip")
@require(P)
def local_template() -> Response:
    return send_file(io.BytesIO(services.template_zip()), mimetype="application/zip", as_attachment=True,
                     download_name="senim-local-method-example.zip")


@bp.route("/screening/local/<local_uuid>")
@require(P)
def local_detail(local_uuid: str) -> str:
    local = get_local_or_404(local_uuid)
    instrument = services.instrument_of(local)
    return render_template("screening/local_detail.html", local=local, instrument=instrument,
                           method_title=services.title(instrument),
                           languages=[(code, LANGUAGE_NAMES[code]) for code in services.LANGUAGES], form=RetireForm())


@bp.route("/screening/local/<local_uuid>/retire", methods=["POST"])
@require(P)
def local_retire(local_uuid: str) -> Response:
    local = get_local_or_404(local_uuid)
    if RetireForm().validate_on_submit():
        services.retire(actor=current_user, local=local)
        flash(_("The local method is retired: it can no longer be chosen for new campaigns."), "success")
    return redirect(url_for("screening.local_detail", local_uuid=local.uuid))
