"""Staff accounts, role assignments and parents' links to pupils: who an admin or director may manage.

An admin manages every account. A director, in their own school only, grants the roles
:data:`DIRECTOR_GRANTABLE` (those that read no pupil data), revokes :data:`DIRECTOR_REVOCABLE`, and links
parents to the school's pupils; never admins or education officers. Nobody changes their own roles.
Every change is one transaction with its audit entry. Permissions are read from the
assignments on every request, so a granted, moved or revoked role applies at the next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, or_, select, true

from app.auth import passwords, reset, sessions
from app.auth.models import RoleAssignment, User
from app.auth.permissions import Permission, reads_pupil_data, school_scope, visible_pupils
from app.auth.roles import ROLE_SCOPE, Role, ScopeKind
from app.auth.services import hasher
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import District, Pupil, PupilGuardian, Region, School, SchoolClass, utcnow
from app.extensions import db
from app.kundelik import services as kundelik_services

P = Permission.ADMIN_STAFF

#: School staff roles a director manages in their own school: revoking them only ever takes access away.
DIRECTOR_REVOCABLE = (Role.PSYCHOLOGIST, Role.SOCIAL_PEDAGOGUE, Role.CLASS_TEACHER)
#: Roles a director may grant, in their own school only: those that read no pupil data (so not a
#: psychologist's or social pedagogue's role: an admin grants those).
DIRECTOR_GRANTABLE = tuple(role for role in DIRECTOR_REVOCABLE if not reads_pupil_data(role))
#: Roles an admin may grant (pupil accounts come from the roster, parents through a link to a pupil).
ADMIN_GRANTABLE = (Role.ADMIN, Role.DIRECTOR, Role.PSYCHOLOGIST, Role.SOCIAL_PEDAGOGUE, Role.CLASS_TEACHER,
                   Role.DISTRICT_OFFICER, Role.REGION_OFFICER)


class NotAllowed(Exception):
    """The actor may not make this change (out of scope, or a role they cannot grant)."""


class OwnAccount(NotAllowed):
    """Nobody grants, revokes or resets their own roles, password or second factor through these screens."""


class UsernameTaken(ValueError):
    """Another account already uses this sign-in name."""


class AlreadyAssigned(ValueError):
    """The user already holds this role in this scope."""


class AlreadyLinked(ValueError):
    """The parent is already linked to this pupil."""


class NotAParent(ValueError):
    """The account exists but is staff or a pupil, so it cannot be linked as a parent."""


@dataclass(frozen=True)
class Scope:
    """Where a role applies; only the field that the role's :data:`ROLE_SCOPE` needs is used."""

    school: School | None = None
    school_class: SchoolClass | None = None
    district: District | None = None
    region: Region | None = None


@dataclass(frozen=True)
class NewAccount:
    """Sign-in name, display name, e-mail and initial password of an account to create."""

    username: str
    full_name: str
    email: str | None
    password: str


# --- scope ---------------------------------------------------------------------------------


def is_global(actor: User) -> bool:
    """True for an admin: every school, every account."""
    return actor.active and any(ROLE_SCOPE[Role(a.role)] is ScopeKind.GLOBAL for a in actor.assignments)


def school_ids(actor: User) -> set[int]:
    """Ids of the schools whose staff the actor manages."""
    return set(db.session.execute(select(School.id).where(school_scope(actor, P))).scalars())


def grantable_roles(actor: User) -> tuple[Role, ...]:
    """Roles the actor may grant."""
    if is_global(actor):
        return ADMIN_GRANTABLE
    return DIRECTOR_GRANTABLE if school_ids(actor) else ()


def _user_condition(actor: User) -> ColumnElement[bool]:
    if is_global(actor):
        return true()
    schools = select(School.id).where(school_scope(actor, P))
    staff = select(RoleAssignment.user_id).where(RoleAssignment.school_id.in_(schools))
    parents = select(PupilGuardian.user_id).join(Pupil, PupilGuardian.pupil_id == Pupil.id).where(
        Pupil.school_id.in_(schools))
    return or_(User.id.in_(staff), User.id.in_(parents))


def visible_users(actor: User) -> Select:
    """Accounts the actor may see on the staff pages: everyone for an admin, their school's for a director."""
    return select(User).where(_user_condition(actor))


def visible_assignments(actor: User, user: User) -> list[RoleAssignment]:
    """The user's role assignments the actor may see (a director: those in their school)."""
    if is_global(actor):
        return list(user.assignments)
    ids = school_ids(actor)
    return [a for a in user.assignments if a.school_id in ids or Role(a.role) is Role.PARENT]


def can_revoke(actor: User, assignment: RoleAssignment) -> bool:
    """True if the actor may revoke this assignment (never their own)."""
    if assignment.user_id == actor.id:
        return False
    if is_global(actor):
        return True
    return Role(assignment.role) in DIRECTOR_REVOCABLE and assignment.school_id in school_ids(actor)


def _parent_children_in_scope(actor: User, user: User) -> bool:
    schools = {link.pupil.school_id for link in user.guardian_links}
    return bool(schools) and schools <= school_ids(actor)


def can_manage_account(actor: User, user: User) -> bool:
    """True if the actor may disable, enable or e-mail a reset link to this account (the link goes to its owner):
    an admin any other account, a director one whose every role is in their school and revocable by them."""
    if user.id == actor.id:
        return False
    if is_global(actor):
        return True
    if user.pupil_id is not None or not user.assignments:
        return False
    for assignment in user.assignments:
        if Role(assignment.role) is Role.PARENT:
            if not _parent_children_in_scope(actor, user):
                return False
        elif not can_revoke(actor, assignment):
            return False
    return True


def can_take_over(actor: User, user: User) -> bool:
    """True if the actor may set this account's password or reset its second factor, which would let the actor
    sign in as its owner: as :func:`can_manage_account`, and for a director only accounts whose roles read no
    pupil data (a director must not become a psychologist this way)."""
    if not can_manage_account(actor, user):
        return False
    return is_global(actor) or not any(reads_pupil_data(Role(a.role)) for a in user.assignments)


def link_kundelik(*, actor: User, user: User, person_id: str | None) -> None:
    """Set (or remove) the Kundelik person of an account; its owner then signs in with Kundelik. Allowed to those
    who may take the account over (:func:`can_take_over`): a link lets that Kundelik person in. Raises
    :class:`NotAllowed`, or :class:`app.kundelik.services.PersonTaken` when another account has the person."""
    if not can_take_over(actor, user):
        raise NotAllowed("kundelik link")
    kundelik_services.link_person(actor=actor, user=user, person_id=person_id)


def _check_grant(actor: User, role: Role, scope: Scope) -> RoleAssignment:
    """The assignment ``role`` in ``scope`` would create; :class:`NotAllowed` if the actor may not."""
    if role not in grantable_roles(actor):
        raise NotAllowed(role)
    kind = ROLE_SCOPE[role]
    assignment = RoleAssignment(role=role.value)
    if kind is ScopeKind.SCHOOL and scope.school is not None:
        assignment.school_id = scope.school.id
    elif kind is ScopeKind.CLASS and scope.school_class is not None:
        assignment.school_id, assignment.class_id = scope.school_class.school_id, scope.school_class.id
    elif kind is ScopeKind.DISTRICT and scope.district is not None:
        assignment.district_id = scope.district.id
    elif kind is ScopeKind.REGION and scope.region is not None:
        assignment.region_id = scope.region.id
    elif kind is not ScopeKind.GLOBAL:
        raise NotAllowed(role)
    if assignment.school_id is not None and not is_global(actor) and assignment.school_id not in school_ids(actor):
        raise NotAllowed(role)
    return assignment


def _same(a: RoleAssignment, b: RoleAssignment) -> bool:
    return (a.role, a.school_id, a.class_id, a.district_id, a.region_id) == (
        b.role, b.school_id, b.class_id, b.district_id, b.region_id)


def _assignment_details(assignment: RoleAssignment) -> dict[str, object]:
    return {"role": assignment.role, "school_id": assignment.school_id, "class_id": assignment.class_id,
            "district_id": assignment.district_id, "region_id": assignment.region_id}


def _add_assignment(actor: User, user: User, assignment: RoleAssignment) -> RoleAssignment:
    if any(_same(existing, assignment) for existing in user.assignments):
        raise AlreadyAssigned(assignment.role)
    user.assignments.append(assignment)
    db.session.flush()
    audit.record(actor, AuditAction.ROLE_GRANT, school_id=assignment.school_id, object_type="user",
                 object_id=user.id, details={"assignment_id": assignment.id, **_assignment_details(assignment)})
    return assignment


# --- accounts --------------------------------------------------------------------------------


def username_taken(username: str) -> bool:
    """True if an account already uses this sign-in name (compared lower-case)."""
    name = username.strip().lower()
    return db.session.execute(select(User.id).where(User.username == name)).first() is not None


def _require_own_password(actor: User, user: User, *, school_id: int | None) -> None:
    """The actor chose this password: its owner must replace it before any other page."""
    user.password_change_required = True
    audit.record(actor, AuditAction.PASSWORD_CHANGE_REQUIRED, school_id=school_id, object_type="user",
                 object_id=user.id)


def _new_user(actor: User, account: NewAccount, *, school_id: int | None) -> User:
    if username_taken(account.username):
        raise UsernameTaken(account.username)
    user = User(username=account.username.strip().lower(), full_name=account.full_name.strip(),
                email=(account.email or "").strip() or None,
                password_hash=passwords.hash_password(hasher(), account.password), password_changed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    audit.record(actor, AuditAction.USER_CREATE, school_id=school_id, object_type="user", object_id=user.id)
    _require_own_password(actor, user, school_id=school_id)
    return user


def create_user(*, actor: User, account: NewAccount, role: Role | None, scope: Scope) -> User:
    """Create an account, with its first role when given (a director must give one in their school)."""
    assignment = _check_grant(actor, role, scope) if role is not None else None
    if assignment is None and not is_global(actor):
        raise NotAllowed("a director's new account needs a role in their school")
    user = _new_user(actor, account, school_id=assignment.school_id if assignment else None)
    if assignment is not None:
        _add_assignment(actor, user, assignment)
    db.session.commit()
    return user


def grant_role(*, actor: User, user: User, role: Role, scope: Scope) -> RoleAssignment:
    """Give ``user`` a role in a scope; it applies from their next request. Never one's own account."""
    if user.id == actor.id:
        raise OwnAccount(role)
    assignment = _add_assignment(actor, user, _check_grant(actor, role, scope))
    db.session.commit()
    return assignment


def revoke_role(*, actor: User, assignment: RoleAssignment) -> None:
    """Take a role away; it stops applying from the holder's next request."""
    if assignment.user_id == actor.id:
        raise OwnAccount(assignment.role)
    if not can_revoke(actor, assignment):
        raise NotAllowed(assignment.role)
    user = assignment.user
    details = {"assignment_id": assignment.id, **_assignment_details(assignment)}
    user.assignments.remove(assignment)
    audit.record(actor, AuditAction.ROLE_REVOKE, school_id=assignment.school_id, object_type="user",
                 object_id=user.id, details=details)
    db.session.commit()


def set_active(*, actor: User, user: User, active: bool) -> None:
    """Disable (every open session ends at once) or enable an account."""
    if not can_manage_account(actor, user):
        raise NotAllowed("account")
    if user.active == active:
        return
    user.active = active
    if not active:
        sessions.revoke_all(user)
    audit.record(actor, AuditAction.USER_ENABLE if active else AuditAction.USER_DISABLE,
                 object_type="user", object_id=user.id)
    db.session.commit()


def reset_password(*, actor: User, user: User, password: str) -> None:
    """Set a temporary password chosen by the actor, end the user's sessions and make the user replace it
    at the next sign-in."""
    if not can_take_over(actor, user):
        raise NotAllowed("account")
    user.password_hash = passwords.hash_password(hasher(), password)
    user.password_changed_at = utcnow()
    sessions.revoke_all(user)
    audit.record(actor, AuditAction.PASSWORD_RESET, object_type="user", object_id=user.id)
    _require_own_password(actor, user, school_id=None)
    db.session.commit()


def send_reset_link(*, actor: User, user: User, fallback_language: str) -> None:
    """E-mail the user a link to choose a password themselves (the actor never knows it); see app.auth.reset."""
    if not can_manage_account(actor, user):
        raise NotAllowed("account")
    reset.send_link(actor=actor, user=user, fallback_language=fallback_language)


def reset_mfa(*, actor: User, user: User) -> None:
    """Forget the user's authenticator: they set up a new one at their next sign-in."""
    if not can_take_over(actor, user):
        raise NotAllowed("account")
    user.totp_secret_ct = None
    user.totp_last_step = None
    sessions.revoke_all(user)
    audit.record(actor, AuditAction.MFA_RESET, object_type="user", object_id=user.id)
    db.session.commit()


# --- parents -----------------------------------------------------------------------------------


def _is_parent_account(user: User) -> bool:
    return user.pupil_id is None and all(Role(a.role) is Role.PARENT for a in user.assignments)


def link_guardian(*, actor: User, pupil: Pupil, username: str, relation: str, is_legal_representative: bool,
                  new_account: NewAccount | None = None) -> PupilGuardian:
    """Link a parent account to a pupil in the actor's scope; creates the account first when
    ``new_account`` is given and gives it the parent role if it lacks it."""
    if not is_global(actor) and pupil.school_id not in school_ids(actor):
        raise NotAllowed("pupil")
    user: User | None
    if new_account is not None:
        user = _new_user(actor, new_account, school_id=pupil.school_id)
    else:
        user = db.session.execute(
            select(User).where(User.username == username.strip().lower())
        ).scalar_one_or_none()
        if user is None or not _is_parent_account(user):
            raise NotAParent(username)
        if any(link.pupil_id == pupil.id for link in user.guardian_links):
            raise AlreadyLinked(username)
    if not user.assignments:
        _add_assignment(actor, user, RoleAssignment(role=Role.PARENT.value))
    link = PupilGuardian(pupil_id=pupil.id, user_id=user.id, relation=relation,
                         is_legal_representative=is_legal_representative)
    db.session.add(link)
    db.session.flush()
    audit.record(actor, AuditAction.GUARDIAN_LINK, school_id=pupil.school_id, pupil_id=pupil.id,
                 object_type="user", object_id=user.id,
                 details={"relation": relation, "legal_representative": is_legal_representative})
    db.session.commit()
    return link


def class_pupils(*, actor: User, school_class: SchoolClass) -> list[Pupil]:
    """Pupils of a class in the actor's scope, to choose whom to link; the list of names is audited."""
    pupils = list(db.session.execute(
        visible_pupils(actor, P).where(Pupil.class_id == school_class.id)
    ).scalars())
    pupils.sort(key=lambda p: (p.last_name, p.first_name))
    audit.record_read(actor, AuditAction.PUPIL_LIST, school_id=school_class.school_id,
                      details={"class_id": school_class.id, "count": len(pupils), "purpose": "guardian_link"})
    return pupils


def children_in_scope(*, actor: User, user: User) -> list[PupilGuardian]:
    """The parent's links to pupils in the actor's scope; showing their names is audited."""
    ids = None if is_global(actor) else school_ids(actor)
    links = [link for link in user.guardian_links if ids is None or link.pupil.school_id in ids]
    if links:
        audit.record_read(actor, AuditAction.PUPIL_LIST, object_type="user", object_id=user.id,
                          details={"count": len(links), "purpose": "guardian_links"})
    return links
