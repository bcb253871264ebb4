"""Sign in with Kundelik: find the Senim account of a Kundelik identity, start the session, keep or drop the token.

Which account a Kundelik user signs in as (the first rule that matches):

1. **linked**: the account already carries this Kundelik user id (set at an earlier Kundelik sign-in);
2. **person**: an administrator set this Kundelik person id on the account (``flask kundelik link``) and the
   account is not linked to another Kundelik user;
3. **pupil_roster**: the Kundelik user is a pupil (``EduStudent``) whose person id is the Kundelik ID of an active
   pupil in Senim's roster (set by the school's roster import or sync): the pupil's own account, created if the
   pupil has none. A pupil account reads only the pupil's own page.

Anything else is an **unknown person**: no account is created or guessed (not by name, not by e-mail), the
attempt is audited with the Kundelik ids so that an administrator can link the account, and the person is told
so. Kundelik's roles never grant Senim roles: they are recorded as suggestions (:mod:`app.kundelik.mapping`);
roles that read pupils' data are granted by an administrator as before. A role with a second factor still
enters its code after Kundelik (the session starts unverified; :func:`app.auth.permissions.require`).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select

from app.auth import sessions
from app.auth.models import RoleAssignment, User
from app.auth.passwords import UNUSABLE_HASH
from app.auth.roles import Role
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.models import Pupil, utcnow
from app.extensions import db
from app.kundelik.client import Token
from app.kundelik.mapping import KundelikIdentity, candidate_roles
from app.kundelik.models import KundelikToken

#: Accounts whose Kundelik token is kept (encrypted): the roster sync runs under a school administrator's or an
#: admin's token. Everybody else's token is dropped once identity and roles are read (§5.1 step 4).
TOKEN_KEEPING_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR})


class SignInOutcome(enum.StrEnum):
    SUCCESS = "success"
    UNKNOWN_PERSON = "unknown_person"
    REFUSED = "refused"  # a disabled account, or a demo account in production: the same answer as a password


@dataclass(frozen=True)
class SignInResult:
    outcome: SignInOutcome
    user: User | None = None


class PersonTaken(ValueError):
    """Another account is already linked to this Kundelik person."""


def _by(column: object, value: str) -> User | None:
    return db.session.execute(select(User).where(column == value)).scalar_one_or_none()  # type: ignore[arg-type]


def _pupil_account(identity: KundelikIdentity) -> User | None:
    """The account of the active roster pupil with this Kundelik person id (created when missing)."""
    if "EduStudent" not in identity.roles:
        return None
    pupil = db.session.execute(select(Pupil).where(Pupil.kundelik_id == identity.person_id,
                                                   Pupil.active.is_(True))).scalar_one_or_none()
    if pupil is None:
        return None
    user = db.session.execute(select(User).where(User.pupil_id == pupil.id)).scalar_one_or_none()
    if user is None:
        user = User(username=f"pupil-{secrets.token_hex(4)}", password_hash=UNUSABLE_HASH, pupil_id=pupil.id)
        user.assignments.append(RoleAssignment(role=Role.PUPIL.value, school_id=pupil.school_id))
        db.session.add(user)
        db.session.flush()
    return user


def find_account(identity: KundelikIdentity) -> tuple[User | None, str]:
    """The account a Kundelik identity signs in as, and the rule that found it (see the module docstring)."""
    user = _by(User.kundelik_user_id, identity.user_id)
    if user is not None:
        return user, "linked"
    user = _by(User.kundelik_person_id, identity.person_id)
    if user is not None:
        return (user, "person") if user.kundelik_user_id is None else (None, "")
    user = _pupil_account(identity)
    if user is not None and user.kundelik_user_id is None and user.kundelik_person_id in (None, identity.person_id):
        return user, "pupil_roster"
    return None, ""


def _kundelik_details(identity: KundelikIdentity) -> dict[str, object]:
    return {"kundelik_user": identity.user_id, "kundelik_person": identity.person_id,
            "kundelik_roles": list(identity.roles)}


def _keep_token(user: User, token: Token) -> bool:
    """Store the token encrypted for accounts that may run the sync; drop any other."""
    kept = bool(user.roles & TOKEN_KEEPING_ROLES)
    if not kept:
        db.session.execute(delete(KundelikToken).where(KundelikToken.user_id == user.id))
        return False
    row = db.session.execute(select(KundelikToken).where(KundelikToken.user_id == user.id)).scalar_one_or_none()
    if row is None:
        row = KundelikToken(user_id=user.id)
        db.session.add(row)
    row.access_token = token.access_token
    row.refresh_token = token.refresh_token
    row.expires_at = token.expires_at
    row.scope = token.scope[:200]
    row.updated_at = utcnow()
    return True


def _demo_account(user: User) -> bool:
    from app.core.demo import is_demo_sign_in  # demo data is development-only; imported when asked

    return current_app.config["ENV_NAME"] == "production" and is_demo_sign_in(user, "")


def sign_in(*, identity: KundelikIdentity, token: Token, ip: str, user_agent: str | None) -> SignInResult:
    """Sign the Kundelik identity in to its Senim account: link it, keep or drop the token, start the session and
    audit, in one transaction; or audit why not."""
    user, rule = find_account(identity)
    if user is None:
        record_failure(reason=SignInOutcome.UNKNOWN_PERSON.value, identity=identity)
        return SignInResult(SignInOutcome.UNKNOWN_PERSON)
    if not user.active or _demo_account(user):
        db.session.rollback()  # nothing of this attempt is kept (not a pupil account created on the way)
        record_failure(reason="disabled" if not user.active else "demo_account", identity=identity,
                       user_id=user.id)
        return SignInResult(SignInOutcome.REFUSED)
    if user.kundelik_user_id is None:
        user.kundelik_user_id = identity.user_id
        user.kundelik_person_id = identity.person_id
        audit.record(user, AuditAction.KUNDELIK_LINKED, object_type="user", object_id=user.id,
                     details={"rule": rule, **_kundelik_details(identity)})
    user.last_login_at = utcnow()
    kept = _keep_token(user, token)
    sessions.start_session(user, ip=ip, user_agent=user_agent)
    audit.record(user, AuditAction.KUNDELIK_SIGN_IN, object_type="user", object_id=user.id,
                 details={"rule": rule, "kundelik_roles": list(identity.roles),
                          "suggested_roles": [r.value for r in candidate_roles(identity.roles)],
                          "token_kept": kept})
    db.session.commit()
    return SignInResult(SignInOutcome.SUCCESS, user)


def record_failure(*, reason: str, identity: KundelikIdentity | None = None, user_id: int | None = None,
                   details: dict[str, object] | None = None) -> None:
    """Audit a Kundelik sign-in that did not start a session (``reason``: denied, state, token, expired,
    unavailable, unknown_person, disabled…), with the Kundelik ids when known; never a code or a token."""
    extra = {"reason": reason, **(_kundelik_details(identity) if identity else {}), **(details or {})}
    audit.record(None, AuditAction.KUNDELIK_SIGN_IN_FAILED, outcome=Outcome.DENIED, object_type="user",
                 object_id=user_id, details=extra)
    db.session.commit()


def link_person(*, actor: User | None, user: User, person_id: str | None) -> None:
    """Set (or with ``None`` remove) the Kundelik person an account belongs to: an administrator's confirmed link,
    used by rule 2 at the next Kundelik sign-in. Changing it unlinks the Kundelik user too."""
    person_id = (person_id or "").strip() or None
    if person_id is not None:
        other = _by(User.kundelik_person_id, person_id)
        if other is not None and other.id != user.id:
            raise PersonTaken(person_id)
    if person_id != user.kundelik_person_id:
        user.kundelik_user_id = None
    user.kundelik_person_id = person_id
    audit.record(actor, AuditAction.KUNDELIK_LINK_SET, object_type="user", object_id=user.id,
                 details={"kundelik_person": person_id})
    db.session.commit()
