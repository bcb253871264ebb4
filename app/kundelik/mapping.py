"""Who a Kundelik sign-in is, read from ``users/me`` and ``users/me/context`` (kundelik-api.md §1.6, §5.1), and
which Senim roles Kundelik's roles suggest. Pure: no Flask, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.auth.roles import Role

#: Kundelik role -> the Senim role it suggests (§5.1 step 6). A suggestion only: Senim's roles are granted in
#: Senim (app.admin.accounts), except a pupil's own account, which the school's roster vouches for
#: (app.kundelik.services). No Kundelik role suggests a psychologist or social pedagogue: there is none.
CANDIDATE_ROLES: Mapping[str, Role] = {
    "EduStudent": Role.PUPIL,
    "EduParent": Role.PARENT,
    "EduStaff": Role.CLASS_TEACHER,
    "EduSchoolAdministrator": Role.DIRECTOR,
}


@dataclass(frozen=True)
class KundelikIdentity:
    """The signed-in Kundelik user: ids as text (never floats), roles and schools."""

    user_id: str
    person_id: str
    roles: tuple[str, ...]
    school_ids: tuple[str, ...]


def _id(value: Any) -> str:
    """An id from its ``_str`` twin or the number itself, as text; "" if missing or not a whole number."""
    text = str(value) if value is not None else ""
    return text if text.isdigit() else ""


class IncompleteIdentity(ValueError):
    """``users/me`` lacks the user or person id."""


def identity(me: Mapping[str, Any], context: Mapping[str, Any]) -> KundelikIdentity:
    """Read the identity from the ``User`` and ``UserContext`` answers; ids from ``id_str``/``personId_str``."""
    user_id = _id(me.get("id_str")) or _id(me.get("id"))
    person_id = _id(me.get("personId_str")) or _id(me.get("personId")) or _id(context.get("personId"))
    if not user_id or not person_id:
        raise IncompleteIdentity
    roles = tuple(dict.fromkeys(str(r) for r in [*(me.get("roles") or []), *(context.get("roles") or [])]))
    schools = [_id(s) for s in context.get("schoolIds") or []]
    schools += [_id(s.get("id")) for s in context.get("schools") or [] if isinstance(s, Mapping)]
    return KundelikIdentity(user_id, person_id, roles, tuple(dict.fromkeys(s for s in schools if s)))


def candidate_roles(roles: Iterable[str]) -> list[Role]:
    """Senim roles that Kundelik's ``roles`` suggest, in a stable order (unknown roles suggest nothing)."""
    found = {CANDIDATE_ROLES[r] for r in roles if r in CANDIDATE_ROLES}
    return [role for role in Role if role in found]
