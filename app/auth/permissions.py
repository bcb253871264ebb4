"""The one place that says who may do what, and over which pupils, classes and schools.

* :class:`Permission` is the vocabulary (``module:resource:action``).
* :data:`ROLE_PERMISSIONS` is the role matrix, as data (the README shows it; a test keeps both equal).
* :func:`require` guards a route; a test fails on any endpoint without it or outside
  :data:`PUBLIC_ENDPOINTS`.
* ``visible_*`` build the scoped queries every list, detail page, count and export starts from, so a
  list and a detail page can never disagree. Objects outside the scope answer 404.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

from flask import abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from app.auth.models import RoleAssignment, User
from app.auth.roles import ROLE_SCOPE, Role, ScopeKind
from app.core.models import District, Pupil, PupilGuardian, School, SchoolClass

F = TypeVar("F", bound=Callable[..., Any])


class Permission(enum.StrEnum):
    """Everything a route can require."""

    ACCOUNT_SELF = "account:self:manage"
    ADMIN_SCHOOLS = "admin:schools:manage"
    ADMIN_CLASSES = "admin:classes:manage"
    ADMIN_STAFF = "admin:staff:manage"
    AUDIT_READ = "audit:log:read"
    PUPIL_LIST = "pupil:record:list"
    PUPIL_READ = "pupil:record:read"
    PUPIL_MANAGE = "pupil:record:manage"
    PUPIL_ACCESS_LOG = "pupil:access_log:read"
    CLASS_FLAGS = "class:flags:read"
    PARENT_CHILD = "parents:child:read"
    PUPIL_SELF = "pupil:self:read"
    REPORTS_AGGREGATE = "reports:aggregate:read"
    SCREENING_INSTRUMENTS = "screening:instrument:read"
    SCREENING_UPLOAD = "screening:instrument:upload"
    SCREENING_CAMPAIGNS = "screening:campaign:manage"
    SCREENING_ENTER = "screening:result:enter"
    SCREENING_RESULTS = "screening:result:read"
    SCREENING_ALERTS = "screening:alert:manage"
    SCREENING_ESCALATIONS = "screening:alert:escalated"
    CONSENT_RECORD = "consent:record:manage"
    CONSENT_OWN = "consent:own:manage"
    #: Guidance articles for parents: general text, no pupil data, so not an identity permission.
    GUIDANCE_READ = "parents:guidance:read"
    #: Guidance articles for teachers and school staff.
    GUIDANCE_STAFF_READ = "guidance:staff:read"
    #: Guidance articles for pupils (and the staff who point pupils to them).
    GUIDANCE_PUPIL_READ = "guidance:pupils:read"
    #: Write and edit guidance articles of one's school (drafts, new versions, submit for review, archive).
    GUIDANCE_WRITE = "guidance:article:write"
    #: Publish (or send back) an article of one's school that someone else wrote.
    GUIDANCE_REVIEW = "guidance:article:review"
    #: Write and review national articles (no school): with GUIDANCE_WRITE / GUIDANCE_REVIEW.
    GUIDANCE_NATIONAL = "guidance:national:manage"
    #: Choose a published article for the parents of a pupil or a class of one's school.
    GUIDANCE_RECOMMEND = "guidance:article:recommend"
    #: A parent asks the school psychologist for a meeting about their own child, and follows its answer.
    PARENT_MEETING_REQUEST = "parents:meeting:request"
    #: The school's meeting requests from parents: read them (decrypted), arrange a time or decline.
    PARENT_MEETING_MANAGE = "parents:meeting:manage"
    #: Write a summary for a pupil's parents and release it to them (or take the release back).
    PARENT_SUMMARY_MANAGE = "parents:summary:manage"
    #: Keep the help directory (150, 111, 112 and regional services): public information, admins only.
    HELP_DIRECTORY_MANAGE = "help:directory:manage"
    #: Bring a school's roster in from a file (classes, pupils, parents) and download it: identity data of the
    #: whole school, so an admin (any school) and the school's director only, not the psychologist.
    ROSTER_IMPORT = "roster:import:manage"
    #: Sync a school's roster from the Kundelik API and read the runs' reports: the same data and holders as
    #: the file import.
    ROSTER_SYNC = "roster:kundelik:sync"
    #: Case files: read (and list) the cases one is owner or team member of, or holds a live grant for.
    MONITORING_CASE_READ = "monitoring:case:read"
    #: Add notes to such a case.
    MONITORING_CASE_NOTE = "monitoring:case:note"
    #: Open cases, change risk, status, review date and team (of cases one is on).
    MONITORING_CASE_MANAGE = "monitoring:case:manage"
    #: Registries (police, intra-school, commission) of the pupils of one's school.
    MONITORING_REGISTRY_READ = "monitoring:registry:read"
    MONITORING_REGISTRY_MANAGE = "monitoring:registry:manage"
    #: How many referrals and algorithm steps are overdue over the whole school: numbers, no case, no pupil.
    MONITORING_OVERDUE_COUNTS = "monitoring:overdue:count"
    #: The overdue follow-ups page: one's own cases (and, with the registry, registered pupils); the school
    #: administrator sees the school's counts and the cases they are on.
    MONITORING_FOLLOWUPS = "monitoring:followup:read"
    #: A pupil's chronology: each source shown only as far as the viewer may read it.
    MONITORING_CHRONOLOGY = "monitoring:chronology:read"
    #: Break-the-glass: ask for time-limited emergency access to a case of one's school one is not on.
    MONITORING_EMERGENCY = "monitoring:case:emergency"
    #: Review emergency accesses (of one's own cases; the school administrator: all of the school's).
    MONITORING_EMERGENCY_REVIEW = "monitoring:case:emergency_review"
    #: Seminars for parents and staff: see the upcoming ones one is in the audience of, register, get materials.
    SEMINARS_ATTEND = "seminars:seminar:attend"
    #: Schedule, change and cancel seminars of one's school (officers: of their district or region), see who
    #: registered (adults' names only), mark attendance, add materials.
    SEMINARS_MANAGE = "seminars:seminar:manage"
    #: Seminar counts over one's school or area: numbers only, no names.
    SEMINARS_STATS = "seminars:stats:read"


P = Permission

#: The role matrix. The README's table is generated from it and a test keeps the two equal.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({
        P.ACCOUNT_SELF, P.ADMIN_SCHOOLS, P.ADMIN_CLASSES, P.ADMIN_STAFF, P.AUDIT_READ,
        P.PUPIL_LIST, P.PUPIL_READ, P.PUPIL_MANAGE, P.PUPIL_ACCESS_LOG, P.REPORTS_AGGREGATE,
        P.SCREENING_INSTRUMENTS, P.SCREENING_UPLOAD, P.GUIDANCE_READ, P.ROSTER_IMPORT, P.ROSTER_SYNC,
        P.HELP_DIRECTORY_MANAGE,
        P.SEMINARS_STATS,
        P.GUIDANCE_STAFF_READ, P.GUIDANCE_PUPIL_READ, P.GUIDANCE_WRITE, P.GUIDANCE_REVIEW, P.GUIDANCE_NATIONAL,
    }),
    # The school administrator sees a case only as a member of its team (the psychologist adds them), and the
    # registries of the school's pupils (the school's prevention council decides on the intra-school one), and
    # answers for who viewed the school's pupils' records (the per-pupil access log).
    Role.DIRECTOR: frozenset({
        P.ACCOUNT_SELF, P.ADMIN_CLASSES, P.ADMIN_STAFF, P.REPORTS_AGGREGATE,
        P.SCREENING_ESCALATIONS, P.GUIDANCE_READ, P.ROSTER_IMPORT, P.ROSTER_SYNC, P.PUPIL_ACCESS_LOG,
        P.MONITORING_CASE_READ, P.MONITORING_CASE_NOTE, P.MONITORING_REGISTRY_READ, P.MONITORING_OVERDUE_COUNTS,
        P.MONITORING_FOLLOWUPS, P.MONITORING_CHRONOLOGY,
        P.MONITORING_EMERGENCY, P.MONITORING_EMERGENCY_REVIEW,
        P.SEMINARS_ATTEND, P.SEMINARS_MANAGE, P.SEMINARS_STATS, P.GUIDANCE_STAFF_READ, P.GUIDANCE_PUPIL_READ,
    }),
    Role.PSYCHOLOGIST: frozenset({
        P.ACCOUNT_SELF, P.PUPIL_LIST, P.PUPIL_READ, P.PUPIL_MANAGE, P.PUPIL_ACCESS_LOG,
        P.SCREENING_INSTRUMENTS, P.SCREENING_UPLOAD, P.SCREENING_CAMPAIGNS, P.SCREENING_ENTER,
        P.SCREENING_RESULTS, P.SCREENING_ALERTS, P.CONSENT_RECORD, P.REPORTS_AGGREGATE, P.GUIDANCE_READ,
        P.PARENT_MEETING_MANAGE, P.PARENT_SUMMARY_MANAGE,
        P.MONITORING_CASE_READ, P.MONITORING_CASE_NOTE, P.MONITORING_CASE_MANAGE,
        P.MONITORING_REGISTRY_READ, P.MONITORING_REGISTRY_MANAGE,
        P.MONITORING_FOLLOWUPS, P.MONITORING_CHRONOLOGY,
        P.MONITORING_EMERGENCY, P.MONITORING_EMERGENCY_REVIEW,
        P.SEMINARS_ATTEND, P.SEMINARS_MANAGE,
        P.GUIDANCE_STAFF_READ, P.GUIDANCE_PUPIL_READ, P.GUIDANCE_WRITE, P.GUIDANCE_REVIEW, P.GUIDANCE_RECOMMEND,
    }),
    # The social pedagogue keeps the registries and works on cases as a team member.
    Role.SOCIAL_PEDAGOGUE: frozenset({
        P.ACCOUNT_SELF, P.PUPIL_LIST, P.PUPIL_READ, P.PUPIL_MANAGE, P.CONSENT_RECORD,
        P.SCREENING_INSTRUMENTS, P.GUIDANCE_READ,
        P.MONITORING_CASE_READ, P.MONITORING_CASE_NOTE, P.MONITORING_REGISTRY_READ, P.MONITORING_REGISTRY_MANAGE,
        P.MONITORING_FOLLOWUPS, P.MONITORING_CHRONOLOGY,
        P.MONITORING_EMERGENCY, P.SEMINARS_ATTEND, P.GUIDANCE_STAFF_READ, P.GUIDANCE_PUPIL_READ,
    }),
    Role.CLASS_TEACHER: frozenset({
        P.ACCOUNT_SELF, P.PUPIL_LIST, P.CLASS_FLAGS, P.GUIDANCE_READ, P.GUIDANCE_STAFF_READ, P.GUIDANCE_PUPIL_READ,
        P.SEMINARS_ATTEND,
    }),
    Role.PARENT: frozenset({P.ACCOUNT_SELF, P.PARENT_CHILD, P.CONSENT_OWN, P.GUIDANCE_READ, P.SEMINARS_ATTEND,
                            P.PARENT_MEETING_REQUEST}),
    Role.PUPIL: frozenset({P.ACCOUNT_SELF, P.PUPIL_SELF, P.GUIDANCE_PUPIL_READ}),
    # Officers organise seminars for their area (the registrant list names adults, never a pupil).
    Role.DISTRICT_OFFICER: frozenset({P.ACCOUNT_SELF, P.REPORTS_AGGREGATE, P.SEMINARS_MANAGE, P.SEMINARS_STATS}),
    Role.REGION_OFFICER: frozenset({P.ACCOUNT_SELF, P.REPORTS_AGGREGATE, P.SEMINARS_MANAGE, P.SEMINARS_STATS}),
}

#: Every permission of the monitoring module (case files and registries).
MONITORING_PERMISSIONS = frozenset({
    P.MONITORING_CASE_READ, P.MONITORING_CASE_NOTE, P.MONITORING_CASE_MANAGE,
    P.MONITORING_REGISTRY_READ, P.MONITORING_REGISTRY_MANAGE, P.MONITORING_OVERDUE_COUNTS,
    P.MONITORING_FOLLOWUPS, P.MONITORING_CHRONOLOGY,
    P.MONITORING_EMERGENCY, P.MONITORING_EMERGENCY_REVIEW,
})

#: Permissions that reveal a pupil's identity; education officers must never hold one.
IDENTITY_PERMISSIONS = frozenset({
    P.PUPIL_LIST, P.PUPIL_READ, P.PUPIL_MANAGE, P.PUPIL_ACCESS_LOG, P.CLASS_FLAGS, P.PARENT_CHILD,
    P.SCREENING_RESULTS, P.SCREENING_ENTER, P.SCREENING_ALERTS, P.SCREENING_CAMPAIGNS, P.ROSTER_IMPORT,
    P.GUIDANCE_RECOMMEND,  # lists the school's pupils by name to choose whose parents get an article
    P.PARENT_MEETING_REQUEST, P.PARENT_MEETING_MANAGE, P.PARENT_SUMMARY_MANAGE, P.ROSTER_SYNC,
    *MONITORING_PERMISSIONS,
})

#: Permissions that read or change a pupil's records beyond a name on a class list (results, alerts, the pupil
#: card, consent). A role holding one is granted by an admin only, and nobody grants their own roles
#: (app.admin.accounts); a director cannot take over such an account by setting its password or second factor.
PUPIL_DATA_PERMISSIONS = frozenset({
    P.PUPIL_READ, P.PUPIL_MANAGE, P.PUPIL_ACCESS_LOG, P.SCREENING_RESULTS, P.SCREENING_ENTER,
    P.SCREENING_ALERTS, P.SCREENING_CAMPAIGNS, P.CONSENT_RECORD, P.ROSTER_IMPORT, P.ROSTER_SYNC,
    P.PARENT_MEETING_MANAGE,
    P.PARENT_SUMMARY_MANAGE, *MONITORING_PERMISSIONS,
})


def reads_pupil_data(role: Role) -> bool:
    """True if the role holds a permission of :data:`PUPIL_DATA_PERMISSIONS`."""
    return bool(ROLE_PERMISSIONS.get(role, frozenset()) & PUPIL_DATA_PERMISSIONS)


#: Endpoints anyone may call. Everything else must carry @require.
PUBLIC_ENDPOINTS = frozenset({
    "static", "auth.login", "core.set_language", "core.healthz",
    # "Sign in with Kundelik": guarded by the OAuth2 state bound to the session (app.kundelik.views).
    "kundelik.start", "kundelik.callback",
    # "Forgot your password?": guarded by the e-mailed single-use link, not by an account.
    "auth.password_forgot", "auth.password_reset",
    # Pupil self-completion: guarded by the personal one-time code, not by an account.
    "screening.enter_code", "screening.choose_language", "screening.question", "screening.pause",
    "screening.finished", "screening.unavailable",
    # Help for pupils: the directory and "ask for help" (anonymous allowed; rate-limited, CSRF-protected).
    "help.directory", "help.ask", "help.sent",
    # Street Law for pupils: the same public texts for everyone, their manifest and service worker.
    "street_law.index", "street_law.home", "street_law.page", "street_law.offline", "street_law.manifest",
    "street_law.service_worker",
})


# --- who holds what ---------------------------------------------------------------


def user_permissions(user: User) -> frozenset[Permission]:
    """Every permission the user holds through any of their role assignments."""
    if not user.is_authenticated or not user.active:
        return frozenset()
    result: set[Permission] = set()
    for assignment in user.assignments:
        result |= ROLE_PERMISSIONS.get(Role(assignment.role), frozenset())
    return frozenset(result)


def has_permission(user: User, permission: Permission) -> bool:
    """True if ``user`` holds ``permission`` in at least one scope."""
    return permission in user_permissions(user)


def _assignments_with(user: User, permission: Permission) -> list[RoleAssignment]:
    if not user.is_authenticated or not user.active:
        return []
    return [a for a in user.assignments if permission in ROLE_PERMISSIONS.get(Role(a.role), ())]


# --- scoping query builders ----------------------------------------------------------


def _school_ids_for(assignment: RoleAssignment) -> Select | None:
    scope = ROLE_SCOPE[Role(assignment.role)]
    if scope is ScopeKind.REGION:
        return (
            select(School.id).join(District, School.district_id == District.id)
            .where(District.region_id == assignment.region_id)
        )
    if scope is ScopeKind.DISTRICT:
        return select(School.id).where(School.district_id == assignment.district_id)
    if scope in (ScopeKind.SCHOOL, ScopeKind.CLASS):
        return select(School.id).where(School.id == assignment.school_id)
    return None


def _pupil_condition(user: User, assignment: RoleAssignment) -> ColumnElement[bool]:
    role = Role(assignment.role)
    scope = ROLE_SCOPE[role]
    if scope is ScopeKind.GLOBAL:
        return true()
    if scope is ScopeKind.CLASS:
        return Pupil.class_id == assignment.class_id
    if scope is ScopeKind.SCHOOL:
        return Pupil.school_id == assignment.school_id
    if role is Role.PARENT:
        return Pupil.id.in_(select(PupilGuardian.pupil_id).where(PupilGuardian.user_id == user.id))
    if role is Role.PUPIL:
        return Pupil.id == user.pupil_id if user.pupil_id is not None else false()
    ids = _school_ids_for(assignment)
    return Pupil.school_id.in_(ids) if ids is not None else false()


def pupil_scope(user: User, permission: Permission) -> ColumnElement[bool]:
    """SQL condition on :class:`Pupil` for the pupils ``user`` may reach with ``permission``."""
    conditions = [_pupil_condition(user, a) for a in _assignments_with(user, permission)]
    return or_(*conditions) if conditions else false()


def visible_pupils(user: User, permission: Permission = P.PUPIL_READ) -> Select:
    """Active pupils ``user`` may reach with ``permission``."""
    return select(Pupil).where(Pupil.active.is_(True), pupil_scope(user, permission))


def class_scope(user: User, permission: Permission) -> ColumnElement[bool]:
    """SQL condition on :class:`SchoolClass` for the classes ``user`` may reach."""
    conditions: list[ColumnElement[bool]] = []
    for a in _assignments_with(user, permission):
        role = Role(a.role)
        scope = ROLE_SCOPE[role]
        if scope is ScopeKind.GLOBAL:
            return true()
        if scope is ScopeKind.CLASS:
            conditions.append(SchoolClass.id == a.class_id)
        elif scope is ScopeKind.SELF:
            pupils = select(Pupil.class_id).where(_pupil_condition(user, a))
            conditions.append(SchoolClass.id.in_(pupils))
        else:
            ids = _school_ids_for(a)
            if ids is not None:
                conditions.append(SchoolClass.school_id.in_(ids))
    return or_(*conditions) if conditions else false()


def visible_classes(user: User, permission: Permission) -> Select:
    """Classes ``user`` may reach with ``permission``."""
    return select(SchoolClass).where(class_scope(user, permission))


def school_scope(user: User, permission: Permission) -> ColumnElement[bool]:
    """SQL condition on :class:`School` for the schools ``user`` may reach."""
    conditions: list[ColumnElement[bool]] = []
    for a in _assignments_with(user, permission):
        scope = ROLE_SCOPE[Role(a.role)]
        if scope is ScopeKind.GLOBAL:
            return true()
        if scope is ScopeKind.SELF:
            pupils = select(Pupil.school_id).where(_pupil_condition(user, a))
            conditions.append(School.id.in_(pupils))
            continue
        ids = _school_ids_for(a)
        if ids is not None:
            conditions.append(School.id.in_(ids))
    return or_(*conditions) if conditions else false()


def visible_schools(user: User, permission: Permission) -> Select:
    """Schools ``user`` may reach with ``permission``."""
    return select(School).where(school_scope(user, permission))


def can_see_pupil(user: User, pupil: Pupil, permission: Permission = P.PUPIL_READ) -> bool:
    """Per-object check built on the same scope as the lists."""
    from app.extensions import db

    query = select(Pupil.id).where(Pupil.id == pupil.id, pupil_scope(user, permission))
    return db.session.execute(query).first() is not None


# --- monitoring: cases by role AND membership, registries by role ------------------------------


def case_scope(user: User, permission: Permission = P.MONITORING_CASE_READ) -> ColumnElement[bool]:
    """SQL condition on ``MonitoringCase``: the user holds ``permission`` in the case's school (role) *and* owns
    the case, is on its team, or holds a live access grant for it (membership)."""
    from app.core.models import utcnow
    from app.monitoring.models import CaseAccessGrant, CaseMember, MonitoringCase

    if not user.is_authenticated or not user.active:
        return false()
    now = utcnow()
    member = exists().where(CaseMember.case_id == MonitoringCase.id, CaseMember.user_id == user.id,
                            CaseMember.removed_at.is_(None))
    grant = exists().where(CaseAccessGrant.case_id == MonitoringCase.id, CaseAccessGrant.user_id == user.id,
                           CaseAccessGrant.revoked_at.is_(None), CaseAccessGrant.starts_at <= now,
                           CaseAccessGrant.expires_at > now)
    schools = select(School.id).where(school_scope(user, permission))
    return and_(MonitoringCase.school_id.in_(schools), or_(MonitoringCase.owner_id == user.id, member, grant))


def visible_cases(user: User, permission: Permission = P.MONITORING_CASE_READ) -> Select:
    """Case files ``user`` may reach with ``permission`` (see :func:`case_scope`)."""
    from app.monitoring.models import MonitoringCase

    return select(MonitoringCase).where(case_scope(user, permission))


def get_case_or_404(user: User, case_uuid: str, permission: Permission = P.MONITORING_CASE_READ) -> Any:
    """The case with this public id if ``user`` may reach it; otherwise audit (in the case's school, tied to its
    pupil) and 404, exactly like an unknown id."""
    from app.extensions import db
    from app.monitoring.models import MonitoringCase

    found = db.session.execute(
        visible_cases(user, permission).where(MonitoringCase.uuid == case_uuid)).scalar_one_or_none()
    if found is None:
        target = db.session.execute(
            select(MonitoringCase.pupil_id).where(MonitoringCase.uuid == case_uuid)).scalar()
        deny_404(user, permission=permission, object_type="case", object_id=case_uuid, pupil_id=target,
                 school_of=select(MonitoringCase.school_id).where(MonitoringCase.uuid == case_uuid))
    return found


def case_school_ids(user: User, permission: Permission) -> list[int]:
    """Ids of the schools where ``user`` holds ``permission`` (for school-wide counts, never for records)."""
    from app.extensions import db

    return list(db.session.execute(select(School.id).where(school_scope(user, permission))).scalars())


def can_propose_transfer(user: User, case: Any) -> bool:
    """The owner of a case, or a school administrator of its school on its team, may propose moving it."""
    if case.owner_id == user.id:
        return True
    return any(a.school_id == case.school_id and Role(a.role) is Role.DIRECTOR for a in user.assignments)


def visible_transfers(user: User) -> Select:
    """Transfers waiting for an answer from ``user``'s school: a psychologist of the receiving school (role)."""
    from app.monitoring.referral_models import CaseTransfer, TransferStatus

    schools = select(School.id).where(school_scope(user, P.MONITORING_CASE_MANAGE))
    return select(CaseTransfer).where(CaseTransfer.to_school_id.in_(schools),
                                      CaseTransfer.status == TransferStatus.PENDING.value)


def get_transfer_or_404(user: User, transfer_uuid: str) -> Any:
    """A waiting transfer to ``user``'s school; otherwise audit (tied to the pupil, in the receiving school's
    chain) and 404."""
    from app.extensions import db
    from app.monitoring.referral_models import CaseTransfer

    found = db.session.execute(
        visible_transfers(user).where(CaseTransfer.uuid == transfer_uuid)).scalar_one_or_none()
    if found is None:
        target = db.session.execute(
            select(CaseTransfer.pupil_id).where(CaseTransfer.uuid == transfer_uuid)).scalar()
        deny_404(user, permission=P.MONITORING_CASE_MANAGE, object_type="case_transfer", object_id=transfer_uuid,
                 pupil_id=target, school_of=select(CaseTransfer.to_school_id).where(CaseTransfer.uuid == transfer_uuid))
    return found


def visible_emergency_grants(user: User) -> Select:
    """Emergency accesses (break-the-glass grants) ``user`` reviews: those to cases they own, and, for a school
    administrator, every one at their school."""
    from app.monitoring.models import CaseAccessGrant, MonitoringCase

    if not has_permission(user, P.MONITORING_EMERGENCY_REVIEW):
        return select(CaseAccessGrant).where(false())
    directed = [a.school_id for a in _assignments_with(user, P.MONITORING_EMERGENCY_REVIEW)
                if Role(a.role) is Role.DIRECTOR and a.school_id is not None]
    schools = select(School.id).where(school_scope(user, P.MONITORING_EMERGENCY_REVIEW))
    owned = select(MonitoringCase.id).where(MonitoringCase.owner_id == user.id)
    return select(CaseAccessGrant).where(
        CaseAccessGrant.granted_by_id.is_(None), CaseAccessGrant.school_id.in_(schools),
        or_(CaseAccessGrant.case_id.in_(owned), CaseAccessGrant.school_id.in_(directed)))


def get_emergency_grant_or_404(user: User, grant_uuid: str) -> Any:
    """An emergency access ``user`` reviews; otherwise audit (tied to the case's pupil) and 404."""
    from app.extensions import db
    from app.monitoring.models import CaseAccessGrant, MonitoringCase

    found = db.session.execute(
        visible_emergency_grants(user).where(CaseAccessGrant.uuid == grant_uuid)).scalar_one_or_none()
    if found is None:
        target = db.session.execute(select(MonitoringCase.pupil_id).join(
            CaseAccessGrant, CaseAccessGrant.case_id == MonitoringCase.id).where(
            CaseAccessGrant.uuid == grant_uuid)).scalar()
        deny_404(user, permission=P.MONITORING_EMERGENCY_REVIEW, object_type="emergency_access",
                 object_id=grant_uuid, pupil_id=target,
                 school_of=select(CaseAccessGrant.school_id).where(CaseAccessGrant.uuid == grant_uuid))
    return found


# --- guidance articles: readers by audience and school, writers and reviewers by role and school ------------

#: Which readers' permission opens which audience's articles.
GUIDANCE_AUDIENCE_PERMISSION = {"parents": P.GUIDANCE_READ, "teachers": P.GUIDANCE_STAFF_READ,
                                "pupils": P.GUIDANCE_PUPIL_READ}


def guidance_audiences(user: User) -> list[str]:
    """The audiences (parents, teachers, pupils) whose articles ``user`` may read."""
    held = user_permissions(user)
    return [audience for audience, permission in GUIDANCE_AUDIENCE_PERMISSION.items() if permission in held]


def guidance_edit_scope(user: User, permission: Permission = P.GUIDANCE_WRITE) -> ColumnElement[bool]:
    """SQL condition on ``Article``: articles of the schools where ``user`` holds ``permission`` in a school
    role (psychologists), and national articles for holders of GUIDANCE_NATIONAL too."""
    from app.guidance.models import Article

    conditions: list[ColumnElement[bool]] = []
    schools = [a.school_id for a in _assignments_with(user, permission)
               if ROLE_SCOPE[Role(a.role)] is ScopeKind.SCHOOL and a.school_id is not None]
    if schools:
        conditions.append(Article.school_id.in_(schools))
    if _assignments_with(user, permission) and has_permission(user, P.GUIDANCE_NATIONAL):
        conditions.append(Article.school_id.is_(None))
    return or_(*conditions) if conditions else false()


def guidance_edit_schools(user: User, permission: Permission = P.GUIDANCE_WRITE) -> list[int]:
    """Schools whose articles ``user`` may write (or review) with ``permission``."""
    return sorted({a.school_id for a in _assignments_with(user, permission)
                   if ROLE_SCOPE[Role(a.role)] is ScopeKind.SCHOOL and a.school_id is not None})


def visible_articles_to_edit(user: User, permission: Permission = P.GUIDANCE_WRITE) -> Select:
    """Guidance articles (any status) ``user`` may edit, or review with GUIDANCE_REVIEW."""
    from app.guidance.models import Article

    return select(Article).where(guidance_edit_scope(user, permission))


def get_article_to_edit_or_404(user: User, article_uuid: str, permission: Permission = P.GUIDANCE_WRITE) -> Any:
    """An article ``user`` may edit (or review); otherwise audit (in the article's school) and 404."""
    from app.guidance.models import Article

    return scoped_or_404(user, visible_articles_to_edit(user, permission).where(Article.uuid == article_uuid),
                         permission=permission, object_type="guidance_article", object_id=article_uuid,
                         school_of=select(Article.school_id).where(Article.uuid == article_uuid))


def visible_published_articles(user: User, audience: str) -> Select:
    """(Article, published ArticleVersion) rows ``user`` may read for ``audience``: published, not archived,
    national or of a school the reader belongs to (a parent: the children's schools), for that audience."""
    from app.guidance.models import Article, ArticleVersion, Status

    permission = GUIDANCE_AUDIENCE_PERMISSION.get(audience)
    if permission is None or not has_permission(user, permission):
        return select(Article, ArticleVersion).where(false())
    schools = select(School.id).where(school_scope(user, permission))
    audience_column = {"parents": ArticleVersion.for_parents, "teachers": ArticleVersion.for_teachers,
                       "pupils": ArticleVersion.for_pupils}[audience]
    return (select(Article, ArticleVersion)
            .join(ArticleVersion, and_(ArticleVersion.article_id == Article.id,
                                       ArticleVersion.number == Article.published_number))
            .where(Article.status != Status.ARCHIVED.value, audience_column.is_(True),
                   or_(Article.school_id.is_(None), Article.school_id.in_(schools))))


def get_published_article_or_404(user: User, article_uuid: str, audience: str) -> Any:
    """(Article, published version) if ``user`` may read it for ``audience``; otherwise audit and 404 (a draft,
    an archived article or another school's answers exactly like an unknown id)."""
    from app.extensions import db
    from app.guidance.models import Article

    found = db.session.execute(
        visible_published_articles(user, audience).where(Article.uuid == article_uuid)).first()
    if found is None:
        deny_404(user, permission=GUIDANCE_AUDIENCE_PERMISSION.get(audience, P.GUIDANCE_READ),
                 object_type="guidance_article", object_id=article_uuid,
                 school_of=select(Article.school_id).where(Article.uuid == article_uuid))
    return found


def visible_registry_entries(user: User, permission: Permission = P.MONITORING_REGISTRY_READ) -> Select:
    """Registry entries of the active pupils ``user`` may reach with ``permission``."""
    from app.monitoring.models import RegistryEntry

    pupils = select(Pupil.id).where(Pupil.active.is_(True), pupil_scope(user, permission))
    return select(RegistryEntry).where(RegistryEntry.pupil_id.in_(pupils))


def get_registry_entry_or_404(user: User, entry_uuid: str,
                              permission: Permission = P.MONITORING_REGISTRY_READ) -> Any:
    """The registry entry if ``user`` may reach it; otherwise audit (tied to its pupil) and 404."""
    from app.extensions import db
    from app.monitoring.models import RegistryEntry

    found = db.session.execute(
        visible_registry_entries(user, permission).where(RegistryEntry.uuid == entry_uuid)).scalar_one_or_none()
    if found is None:
        target = db.session.execute(
            select(RegistryEntry.pupil_id).where(RegistryEntry.uuid == entry_uuid)).scalar()
        deny_404(user, permission=permission, object_type="registry_entry", object_id=entry_uuid, pupil_id=target,
                 school_of=select(RegistryEntry.school_id).where(RegistryEntry.uuid == entry_uuid))
    return found


# --- seminars: the audience by role and place, organisers by area ----------------------------------------


def _seminar_place(school_ids: Select) -> ColumnElement[bool]:
    """SQL condition on ``Seminar``: held for one of ``school_ids``, or for the district or region of one."""
    from app.seminars.models import Seminar

    districts = select(School.district_id).where(School.id.in_(school_ids))
    regions = select(District.region_id).where(District.id.in_(districts))
    return or_(Seminar.school_id.in_(school_ids), Seminar.district_id.in_(districts), Seminar.region_id.in_(regions))


def seminar_audience_scope(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Seminar``: ``user`` is in its audience (a parent: through an active child's school;
    staff: through their school) and its place covers that school."""
    from app.seminars.models import Audience, Seminar

    conditions: list[ColumnElement[bool]] = []
    for a in _assignments_with(user, P.SEMINARS_ATTEND):
        role = Role(a.role)
        if role is Role.PARENT:
            schools = select(Pupil.school_id).where(Pupil.active.is_(True), _pupil_condition(user, a))
            kind = Audience.PARENTS
        else:
            found = _school_ids_for(a)
            if found is None:
                continue
            schools, kind = found, Audience.STAFF
        conditions.append(and_(Seminar.audience.in_([kind.value, Audience.BOTH.value]), _seminar_place(schools)))
    return or_(*conditions) if conditions else false()


def seminar_area_scope(user: User, permission: Permission = P.SEMINARS_MANAGE) -> ColumnElement[bool]:
    """SQL condition on ``Seminar``: held within the area where ``user`` holds ``permission`` (a school's staff:
    the school's seminars; an officer: those of the district or region and of its schools)."""
    from app.seminars.models import Seminar

    conditions: list[ColumnElement[bool]] = []
    for a in _assignments_with(user, permission):
        scope = ROLE_SCOPE[Role(a.role)]
        if scope is ScopeKind.GLOBAL:
            return true()
        if scope is ScopeKind.REGION:
            districts = select(District.id).where(District.region_id == a.region_id)
            conditions.append(or_(Seminar.region_id == a.region_id, Seminar.district_id.in_(districts),
                                  Seminar.school_id.in_(select(School.id).where(School.district_id.in_(districts)))))
        elif scope is ScopeKind.DISTRICT:
            conditions.append(or_(Seminar.district_id == a.district_id, Seminar.school_id.in_(
                select(School.id).where(School.district_id == a.district_id))))
        elif scope is ScopeKind.SCHOOL:
            conditions.append(Seminar.school_id == a.school_id)
    return or_(*conditions) if conditions else false()


def seminar_places(user: User) -> list[tuple[str, int]]:
    """Where ``user`` may hold a seminar, as ("school" | "district" | "region", id): a school's staff their
    school; an officer the district or region, or any district or school in it."""
    from app.extensions import db

    places: list[tuple[str, int]] = []
    for a in _assignments_with(user, P.SEMINARS_MANAGE):
        scope = ROLE_SCOPE[Role(a.role)]
        if scope is ScopeKind.REGION and a.region_id is not None:
            places.append(("region", a.region_id))
            districts = db.session.execute(select(District.id).where(District.region_id == a.region_id)
                                           .order_by(District.id)).scalars().all()
            places += [("district", d) for d in districts]
            places += [("school", s) for s in db.session.execute(select(School.id).where(
                School.district_id.in_(districts)).order_by(School.id)).scalars()]
        elif scope is ScopeKind.DISTRICT and a.district_id is not None:
            places.append(("district", a.district_id))
            places += [("school", s) for s in db.session.execute(select(School.id).where(
                School.district_id == a.district_id).order_by(School.id)).scalars()]
        elif scope is ScopeKind.SCHOOL and a.school_id is not None:
            places.append(("school", a.school_id))
    return list(dict.fromkeys(places))


def get_seminar_or_404(user: User, seminar_uuid: str, permission: Permission) -> Any:
    """The seminar if ``user`` may reach it with ``permission`` (attend: in its audience; manage: in their area);
    otherwise audit (in the seminar's school's chain, if any) and 404, exactly like an unknown id."""
    from app.seminars.models import Seminar

    scope = seminar_audience_scope(user) if permission is P.SEMINARS_ATTEND else seminar_area_scope(user, permission)
    return scoped_or_404(user, select(Seminar).where(Seminar.uuid == seminar_uuid, scope), permission=permission,
                         object_type="seminar", object_id=seminar_uuid,
                         school_of=select(Seminar.school_id).where(Seminar.uuid == seminar_uuid))


# --- parents: meeting requests and summaries for parents ------------------------------------------------


def visible_meetings(user: User, permission: Permission) -> Select:
    """Meeting requests about the active pupils ``user`` reaches with ``permission``: the school's for a
    psychologist (``PARENT_MEETING_MANAGE``), a parent's own requests about their own children
    (``PARENT_MEETING_REQUEST``)."""
    from app.parents.models import MeetingRequest

    pupils = select(Pupil.id).where(Pupil.active.is_(True), pupil_scope(user, permission))
    condition: ColumnElement[bool] = MeetingRequest.pupil_id.in_(pupils)
    if permission is P.PARENT_MEETING_REQUEST:
        condition = and_(condition, MeetingRequest.parent_id == user.id)
    return select(MeetingRequest).where(condition)


def _pupil_record_or_404(user: User, query: Select, model: Any, object_uuid: str, *, permission: Permission,
                         object_type: str) -> Any:
    """The row of a scoped ``query`` over ``model`` (a record of one pupil, with ``uuid``, ``pupil_id`` and
    ``school_id``) with this public id; otherwise audit (tied to its pupil, in its school's chain) and 404."""
    from app.extensions import db

    found = db.session.execute(query.where(model.uuid == object_uuid)).scalar_one_or_none()
    if found is None:
        target = db.session.execute(select(model.pupil_id).where(model.uuid == object_uuid)).scalar()
        deny_404(user, permission=permission, object_type=object_type, object_id=object_uuid, pupil_id=target,
                 school_of=select(model.school_id).where(model.uuid == object_uuid))
    return found


def get_meeting_or_404(user: User, meeting_uuid: str, permission: Permission) -> Any:
    """A meeting request ``user`` may reach (see :func:`visible_meetings`); otherwise audit and 404."""
    from app.parents.models import MeetingRequest

    return _pupil_record_or_404(user, visible_meetings(user, permission), MeetingRequest, meeting_uuid,
                                permission=permission, object_type="parent_meeting")


def visible_summaries(user: User, permission: Permission) -> Select:
    """Summaries for parents of the active pupils ``user`` reaches with ``permission``: every one of the school's
    pupils for a psychologist (``PARENT_SUMMARY_MANAGE``); for a parent (``PARENT_CHILD``) only those released now,
    of their own children."""
    from app.parents.models import ParentSummary

    pupils = select(Pupil.id).where(Pupil.active.is_(True), pupil_scope(user, permission))
    condition: ColumnElement[bool] = ParentSummary.pupil_id.in_(pupils)
    if permission is not P.PARENT_SUMMARY_MANAGE:
        condition = and_(condition, ParentSummary.released_at.is_not(None))
    return select(ParentSummary).where(condition)


def get_summary_or_404(user: User, summary_uuid: str, permission: Permission) -> Any:
    """A summary ``user`` may reach (see :func:`visible_summaries`); otherwise audit and 404."""
    from app.parents.models import ParentSummary

    return _pupil_record_or_404(user, visible_summaries(user, permission), ParentSummary, summary_uuid,
                                permission=permission, object_type="parent_summary")


# --- the route decorator ------------------------------------------------------------


def require(permission: Permission, *, mfa: bool = True) -> Callable[[F], F]:
    """Guard a view: signed in, second factor done (unless ``mfa=False``), and ``permission`` held."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if request.method == "GET":
                    return redirect(url_for("auth.login", next=request.full_path))
                abort(401)
            if mfa and current_user.requires_mfa and not g.get("senim_mfa_verified"):
                target = "auth.mfa_verify" if current_user.mfa_enrolled else "auth.mfa_enroll"
                return redirect(url_for(target))
            if not has_permission(current_user, permission):
                from app.core import audit

                audit.record_denied(current_user, permission=permission, **_denied_target(kwargs))
                abort(403)
            return view(*args, **kwargs)

        wrapped.senim_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def _pupil_records() -> dict[str, tuple[str, Any]]:
    """URL parameter -> (object type, model) of the records that belong to one pupil."""
    from app.monitoring.models import MonitoringCase, RegistryEntry
    from app.monitoring.referral_models import CaseTransfer
    from app.parents.models import MeetingRequest, ParentSummary

    return {"pupil_uuid": ("pupil", Pupil), "case_uuid": ("case", MonitoringCase),
            "entry_uuid": ("registry_entry", RegistryEntry), "transfer_uuid": ("case_transfer", CaseTransfer),
            "meeting_uuid": ("parent_meeting", MeetingRequest), "summary_uuid": ("parent_summary", ParentSummary)}


def _denied_target(view_args: dict[str, Any]) -> dict[str, Any]:
    """Tie a 403 on a ``<pupil_uuid>``, ``<case_uuid>`` or ``<entry_uuid>`` route to the pupil concerned, so the
    attempt shows in its access log.

    The response stays the same 403 for every id; only the audit entry names the pupil.
    """
    from app.extensions import db

    for name, (object_type, model) in _pupil_records().items():
        value = view_args.get(name)
        if not isinstance(value, str):
            continue
        pupil_column = model.id if model is Pupil else model.pupil_id
        target = db.session.execute(select(pupil_column, model.school_id).where(model.uuid == value)).first()
        return {"object_type": object_type, "object_id": value[:64],
                "pupil_id": target[0] if target else None, "school_id": target[1] if target else None}
    return {}


def endpoint_permission(view: Callable[..., Any]) -> Permission | None:
    """The permission a view function declares, or None if it has no @require."""
    return getattr(view, "senim_permission", None)


def get_pupil_or_404(user: User, pupil_uuid: str, permission: Permission = P.PUPIL_READ) -> Pupil:
    """The pupil with this public id if ``user`` may reach it; otherwise audit and 404."""
    from app.core import audit
    from app.extensions import db

    pupil = db.session.execute(
        visible_pupils(user, permission).where(Pupil.uuid == pupil_uuid)
    ).scalar_one_or_none()
    if pupil is None:
        # Look the id up unscoped only to attach the attempt to the pupil's access log.
        target = db.session.execute(
            select(Pupil.id, Pupil.school_id).where(Pupil.uuid == pupil_uuid)
        ).first()
        audit.record_denied(user, permission=permission, object_type="pupil", object_id=pupil_uuid[:64],
                            pupil_id=target[0] if target else None, school_id=target[1] if target else None)
        abort(404)
    return pupil


def deny_404(user: User, *, permission: Permission, object_type: str, object_id: int | str,
             school_of: Select | None = None, pupil_id: int | None = None) -> NoReturn:
    """Audit a refused or unknown object and answer 404. ``school_of`` is an unscoped query for the school id of
    the object, if it exists, so that the refusal lands in that school's audit chain."""
    from app.core import audit
    from app.extensions import db

    school_id = db.session.execute(school_of).scalar() if school_of is not None else None
    audit.record_denied(user, permission=permission, object_type=object_type, object_id=str(object_id)[:64],
                        school_id=school_id, pupil_id=pupil_id)
    abort(404)


def scoped_or_404(user: User, query: Select, *, permission: Permission, object_type: str,
                  object_id: int | str, school_of: Select | None = None) -> Any:
    """The one row of a scoped ``query``; if there is none, audit the refusal (in the object's school, found with
    ``school_of``) and answer 404."""
    from app.extensions import db

    found = db.session.execute(query).scalar_one_or_none()
    if found is None:
        deny_404(user, permission=permission, object_type=object_type, object_id=object_id, school_of=school_of)
    return found


def get_class_or_404(user: User, class_id: int, permission: Permission) -> SchoolClass:
    """The class if ``user`` may reach it with ``permission``; otherwise audit and 404."""
    query = visible_classes(user, permission).where(SchoolClass.id == class_id)
    return scoped_or_404(user, query, permission=permission, object_type="class", object_id=class_id,
                         school_of=select(SchoolClass.school_id).where(SchoolClass.id == class_id))


def get_school_or_404(user: User, school_id: int, permission: Permission) -> School:
    """The school if ``user`` may reach it with ``permission``; otherwise audit and 404."""
    query = visible_schools(user, permission).where(School.id == school_id)
    return scoped_or_404(user, query, permission=permission, object_type="school", object_id=school_id,
                         school_of=select(School.id).where(School.id == school_id))
