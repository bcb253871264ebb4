"""Accounts, role assignments, server-side sessions and sign-in failures."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.roles import MFA_ROLES, ROLE_LABELS, SENSITIVE_ROLES, Role
from app.core.encryption import Encrypted
from app.core.models import new_uuid, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.core.models import Pupil, PupilGuardian, School, SchoolClass


class User(UserMixin, Model):
    """A person who signs in: staff, parent, pupil or education officer."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    #: Sign-in name, stored lower-case.
    username: Mapped[str] = mapped_column(String(150), unique=True)
    #: Staff display name (personal data, not sensitive); empty for pupils, whose name is encrypted.
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    #: Contact phone in E.164 form (+7…), personal data like the e-mail; set for parents from a roster file.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    #: argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: Interface language chosen by the user (kk/ru/en), if any.
    preferred_language: Mapped[str | None] = mapped_column(String(2))
    #: For pupil accounts: the pupil record this account belongs to.
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"), unique=True)
    #: Secret: AES-GCM ciphertext of the TOTP seed.
    totp_secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Last accepted TOTP time step (a code is never accepted twice).
    totp_last_step: Mapped[int | None]
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    #: True while the password is one someone else chose (a new account, an admin's temporary password):
    #: the owner must replace it before any other page (app.auth.password_guard). Not sensitive.
    password_change_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Kundelik's user id (the login account) this account signs in as with "Sign in with Kundelik"; set at the
    #: first Kundelik sign-in that a rule of app.kundelik.services links. An identifier, not sensitive.
    kundelik_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Kundelik's person id of the account's owner, set by an administrator (``flask kundelik link``, the demo)
    #: before the first Kundelik sign-in, or copied from Kundelik at that sign-in. An identifier, not sensitive.
    kundelik_person_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    totp_secret = Encrypted("totp_secret_ct")

    assignments: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    pupil: Mapped[Pupil | None] = relationship(foreign_keys=[pupil_id])
    guardian_links: Mapped[list[PupilGuardian]] = relationship(back_populates="user")

    # Flask-Login: our own "active" column decides.
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return self.uuid

    @property
    def roles(self) -> set[Role]:
        """Every role this user holds, in any scope."""
        return {Role(a.role) for a in self.assignments}

    @property
    def role_labels(self) -> list[str]:
        """Translated names of this user's roles."""
        return sorted({str(ROLE_LABELS[r]) for r in self.roles})

    @property
    def display_name(self) -> str:
        """Name shown in the page header (decrypts a pupil's name)."""
        if self.pupil_id is not None and self.pupil is not None:
            return self.pupil.short_name
        return self.full_name or self.username

    @property
    def requires_mfa(self) -> bool:
        """Every role that reads pupil data (admins, school administrators, psychologists, social pedagogues) must
        use a second factor."""
        return bool(self.roles & MFA_ROLES)

    @property
    def sees_sensitive_data(self) -> bool:
        """Roles that see sensitive data get the shorter idle timeout."""
        return bool(self.roles & SENSITIVE_ROLES)

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_secret_ct is not None

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RoleAssignment(Model):
    """A role held in a scope: the whole system, a region, a district, a school or one class."""

    __tablename__ = "role_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="assignments")
    school: Mapped[School | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()

    def __repr__(self) -> str:
        return f"<RoleAssignment {self.id} {self.role}>"


class UserSession(Model):
    """A server-side session: the cookie only carries a random token whose hash is stored here."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the session token (the token itself is never stored).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    #: When the second factor was checked in this session (None: not yet).
    mfa_verified_at: Mapped[datetime | None]
    #: Last time the password was re-entered (step-up for exports).
    reauth_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession {self.id}>"


class FailurePurpose(enum.StrEnum):
    """What a counted failure was, so that each purpose has its own limits (one never blocks another)."""

    PASSWORD = "password"  # noqa: S105 (a label, not a secret)  a password sign-in or step-up re-authentication
    MFA = "mfa"            # a wrong second-factor code
    CODE = "code"          # a pupil's wrong one-time screening code (app.screening.selfservice)
    RESET = "reset"        # a "forgot your password?" request (counted, not a failure; app.auth.reset)
    HELP = "help"          # a pupil's request for help (counted, not a failure; app.help); address kept keyed


class LoginFailure(Model):
    """A counted attempt (failed sign-in, wrong code, reset request), per purpose, account key and IP.

    Lockout and throttling are derived from these rows (no counters to keep in step). Each purpose is counted on
    its own: pupils' wrong codes or second-factor failures never pause a staff member's password sign-in.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: FailurePurpose.
    purpose: Mapped[str] = mapped_column(String(8), default=FailurePurpose.PASSWORD.value,
                                         server_default=FailurePurpose.PASSWORD.value)
    #: Keyed HMAC (blind index, hex) of the sign-in name tried, of "mfa:" + user uuid, or of a pupil's device; a
    #: reset request's key is the account's or the text's. Unknown names leave no plaintext and no unsalted hash.
    account_key: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(45), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PasswordResetToken(Model):
    """A "forgot your password?" link sent by e-mail (app.auth.reset): single use, short-lived.

    Only a keyed hash of the token is stored; the token itself exists in the e-mail alone.
    """

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Secret-derived: HMAC (blind-index key, scope "pwreset") of the token from the link; never the token.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    #: HMAC of the password hash when the link was sent: any password change (own, admin's, a reset) voids it.
    password_fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    #: When the link was used, or voided by a newer link or a completed reset (None: still usable).
    spent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<PasswordResetToken {self.id}>"
