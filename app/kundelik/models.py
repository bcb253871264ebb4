"""A Kundelik token kept for an account that may run the roster sync (kundelik-api.md §5.1 step 4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.encryption import Encrypted
from app.core.models import new_uuid, utcnow
from app.extensions import Model


class KundelikToken(Model):
    """The latest Kundelik token of one Senim account, encrypted; only school administrators' and admins' are kept
    (the roster sync runs under them), everybody else's is dropped once identity and roles are read."""

    __tablename__ = "kundelik_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Row binding of the ciphertexts.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    #: Secret: AES-GCM ciphertexts of the access and refresh tokens (bound to this row).
    access_token_ct: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: When the access token expires (None: Kundelik gave no lifetime). Not sensitive.
    expires_at: Mapped[datetime | None]
    #: Scopes granted, comma-separated, e.g. "CommonInfo,EducationalInfo,FriendsAndRelatives". Not sensitive.
    scope: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    access_token = Encrypted("access_token_ct")
    refresh_token = Encrypted("refresh_token_ct")

    def __repr__(self) -> str:
        return f"<KundelikToken {self.id}>"
