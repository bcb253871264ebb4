"""The roles a person can hold. Permissions per role live in :mod:`app.auth.permissions`."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    ADMIN = "admin"
    DIRECTOR = "director"
    PSYCHOLOGIST = "psychologist"
    SOCIAL_PEDAGOGUE = "social_pedagogue"
    CLASS_TEACHER = "class_teacher"
    PARENT = "parent"
    PUPIL = "pupil"
    DISTRICT_OFFICER = "district_officer"
    REGION_OFFICER = "region_officer"


class ScopeKind(enum.StrEnum):
    """What a role assignment is scoped to."""

    GLOBAL = "global"
    REGION = "region"
    DISTRICT = "district"
    SCHOOL = "school"
    CLASS = "class"
    SELF = "self"  # parents (their children) and pupils (themselves)


#: The scope each role is assigned in.
ROLE_SCOPE: dict[Role, ScopeKind] = {
    Role.ADMIN: ScopeKind.GLOBAL,
    Role.DIRECTOR: ScopeKind.SCHOOL,
    Role.PSYCHOLOGIST: ScopeKind.SCHOOL,
    Role.SOCIAL_PEDAGOGUE: ScopeKind.SCHOOL,
    Role.CLASS_TEACHER: ScopeKind.CLASS,
    Role.PARENT: ScopeKind.SELF,
    Role.PUPIL: ScopeKind.SELF,
    Role.DISTRICT_OFFICER: ScopeKind.DISTRICT,
    Role.REGION_OFFICER: ScopeKind.REGION,
}

#: Roles that must sign in with a second factor.
MFA_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.PSYCHOLOGIST, Role.SOCIAL_PEDAGOGUE})

#: Roles that see sensitive data: 15-minute idle timeout instead of 30.
SENSITIVE_ROLES = frozenset({Role.ADMIN, Role.PSYCHOLOGIST, Role.SOCIAL_PEDAGOGUE})

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.DIRECTOR: _l("School administrator"),
    Role.PSYCHOLOGIST: _l("School psychologist"),
    Role.SOCIAL_PEDAGOGUE: _l("Social pedagogue"),
    Role.CLASS_TEACHER: _l("Class teacher"),
    Role.PARENT: _l("Parent"),
    Role.PUPIL: _l("Pupil"),
    Role.DISTRICT_OFFICER: _l("District education officer"),
    Role.REGION_OFFICER: _l("Region education officer"),
}
