"""Registries: the school's current list, a pupil's registry tab with full history, register, edit, deregister."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import (
    Permission,
    get_pupil_or_404,
    get_registry_entry_or_404,
    has_permission,
    require,
)
from app.consent.services import today_local
from app.core.conflict_page import render_conflict
from app.core.models import Pupil
from app.monitoring import labels
from app.monitoring import registry as services
from app.monitoring.conflicts import EditConflict
from app.monitoring.forms import DeregisterForm, RegistryForm
from app.monitoring.models import RegistryDetails, RegistryEntry
from app.monitoring.services import open_case_of
from app.monitoring.views import bp

P = Permission


@bp.route("/monitoring/registry")
@require(P.MONITORING_REGISTRY_READ)
def register() -> str:
    rows = services.current_register(actor=current_user)
    return render_template("monitoring/register.html", rows=rows, today=today_local(),
                           labels=labels.template_labels())


@bp.route("/monitoring/pupils/<pupil_uuid>/registry")
@require(P.MONITORING_REGISTRY_READ)
def pupil_registry(pupil_uuid: str) -> str:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P.MONITORING_REGISTRY_READ)
    entries = services.registry_of(actor=current_user, pupil=pupil)
    histories = {entry.id: services.history(entry) for entry in entries}
    return render_template(
        "monitoring/pupil_registry.html", pupil=pupil, entries=entries, histories=histories,
        can_manage=has_permission(current_user, P.MONITORING_REGISTRY_MANAGE),
        can_open_case=has_permission(current_user, P.MONITORING_CASE_MANAGE),
        has_open_case=open_case_of(pupil.id) is not None, today=today_local(), labels=labels.template_labels())


def _details(form: RegistryForm) -> RegistryDetails:
    return RegistryDetails(kind=form.kind.data, basis_document=form.basis_document.data.strip(),
                           basis_number=(form.basis_number.data or "").strip(), basis_date=form.basis_date.data,
                           reason_category=form.reason_category.data, reason_text=form.reason_text.data.strip())


def _to_registry(pupil: Pupil) -> Response:
    return redirect(url_for("monitoring.pupil_registry", pupil_uuid=pupil.uuid))


def _dates_error(form: Any) -> None:
    form.form_errors.append(_("A review or deregistration date must not be before the registration date."))


@bp.route("/monitoring/pupils/<pupil_uuid>/registry/new", methods=["GET", "POST"])
@require(P.MONITORING_REGISTRY_MANAGE)
def registry_new(pupil_uuid: str) -> str | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P.MONITORING_REGISTRY_MANAGE)
    form = RegistryForm()
    if form.validate_on_submit():
        try:
            services.add_entry(actor=current_user, pupil=pupil, details=_details(form),
                               started_on=form.started_on.data, next_review_on=form.next_review_on.data)
        except services.BadDates:
            _dates_error(form)
        else:
            flash(_("Registration saved."), "success")
            return _to_registry(pupil)
    return render_template("monitoring/registry_form.html", pupil=pupil, form=form, entry=None)


def _conflict(entry: RegistryEntry, form: Any, mine: list[tuple[Any, Any]], theirs: list[Any]) -> tuple[str, int]:
    rows = [(label, value, current) for (label, value), current in zip(mine, theirs, strict=True)]
    return render_conflict(title=_("Someone changed this registration while you were editing"), form=form,
                           action=request.path, back=url_for("monitoring.pupil_registry", pupil_uuid=entry.pupil.uuid),
                           rows=rows, record=entry)


def _registry_rows(kind: str, document: str, number: str, basis_date: Any, reason: str, text: str, started: Any,
                   review: Any) -> list[tuple[Any, Any]]:
    return [(_("Registry"), labels.label(labels.REGISTRY_KIND, kind)), (_("Basis document"), document),
            (_("Document number"), number), (_("Document date"), basis_date),
            (_("Reason"), labels.label(labels.REGISTRY_REASON, reason)), (_("Reason in detail"), text),
            (_("Registered on"), started), (_("Next review"), review)]


@bp.route("/monitoring/registry/<entry_uuid>/edit", methods=["GET", "POST"])
@require(P.MONITORING_REGISTRY_MANAGE)
def registry_edit(entry_uuid: str) -> str | tuple[str, int] | Response:
    entry = get_registry_entry_or_404(current_user, entry_uuid, P.MONITORING_REGISTRY_MANAGE)
    services.read_entry(actor=current_user, entry=entry)
    if not entry.is_current:
        flash(_("A deregistered entry is kept as history and cannot be changed."), "warning")
        return _to_registry(entry.pupil)
    form = RegistryForm()
    if request.method == "GET":
        details = entry.details
        form.process(data={"kind": details.kind, "basis_document": details.basis_document,
                           "basis_number": details.basis_number, "basis_date": details.basis_date,
                           "reason_category": details.reason_category, "reason_text": details.reason_text,
                           "started_on": entry.started_on, "next_review_on": entry.next_review_on,
                           "version": entry.version})
    elif form.validate_on_submit():
        mine = _details(form)
        try:
            services.update_entry(actor=current_user, entry=entry, version=form.version.data, details=mine,
                                  started_on=form.started_on.data, next_review_on=form.next_review_on.data)
        except EditConflict:
            now = entry.details
            return _conflict(entry, form, _registry_rows(
                mine.kind, mine.basis_document, mine.basis_number, mine.basis_date, mine.reason_category,
                mine.reason_text, form.started_on.data, form.next_review_on.data), [v for _label, v in _registry_rows(
                now.kind, now.basis_document, now.basis_number, now.basis_date, now.reason_category,
                now.reason_text, entry.started_on, entry.next_review_on)])
        except services.BadDates:
            _dates_error(form)
        except services.EntryEnded:
            flash(_("A deregistered entry is kept as history and cannot be changed."), "warning")
            return _to_registry(entry.pupil)
        else:
            flash(_("Changes saved."), "success")
            return _to_registry(entry.pupil)
    return render_template("monitoring/registry_form.html", pupil=entry.pupil, form=form, entry=entry)


@bp.route("/monitoring/registry/<entry_uuid>/deregister", methods=["GET", "POST"])
@require(P.MONITORING_REGISTRY_MANAGE)
def registry_deregister(entry_uuid: str) -> str | tuple[str, int] | Response:
    entry = get_registry_entry_or_404(current_user, entry_uuid, P.MONITORING_REGISTRY_MANAGE)
    services.read_entry(actor=current_user, entry=entry)
    if not entry.is_current:
        flash(_("This registration has already ended."), "warning")
        return _to_registry(entry.pupil)
    form = DeregisterForm()
    if request.method == "GET":
        form.process(data={"ended_on": today_local(), "version": entry.version})
    elif form.validate_on_submit():
        try:
            services.deregister(actor=current_user, entry=entry, version=form.version.data,
                                ended_on=form.ended_on.data, reason=form.end_reason.data)
        except EditConflict:
            return _conflict(entry, form, [(_("Deregistered on"), form.ended_on.data),
                                           (_("Reason for deregistration"), form.end_reason.data)],
                             [entry.ended_on, entry.end_reason])
        except services.BadDates:
            _dates_error(form)
        except services.RegistryError:
            flash(_("This registration has already ended."), "warning")
            return _to_registry(entry.pupil)
        else:
            flash(_("Deregistration saved."), "success")
            return _to_registry(entry.pupil)
    return render_template("monitoring/deregister.html", pupil=entry.pupil, form=form, entry=entry,
                           labels=labels.template_labels())
