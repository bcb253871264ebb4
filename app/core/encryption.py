"""Field-level encryption for ORM models, on top of :mod:`app.core.crypto`.

A model keeps each sensitive value in a ``LargeBinary`` column holding AES-256-GCM ciphertext and
exposes the plaintext through an :class:`Encrypted` descriptor. The associated data binds every
ciphertext to its table, column and the row's ``uuid``: a value copied to another row, or to another
column of the same row, fails to decrypt (:class:`~app.core.crypto.DecryptionError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from flask import current_app

from app.core.crypto import BlindIndex, Keyring, make_aad

#: Every (model, descriptor) pair, so that key rotation can find all encrypted columns.
ENCRYPTED_FIELDS: list[tuple[type, Encrypted]] = []


@dataclass(frozen=True)
class CryptoState:
    """The keys of one application instance."""

    keyring: Keyring
    blind_index: BlindIndex


def crypto() -> CryptoState:
    """The current application's keys."""
    return current_app.extensions["senim_crypto"]


def keyring() -> Keyring:
    """The current application's encryption keyring."""
    return crypto().keyring


def blind_index(value: str, *, scope: str) -> bytes:
    """Keyed blind index of ``value`` for exact lookups on an encrypted column."""
    return crypto().blind_index.compute(value, scope=scope)


class Encrypted:
    """Descriptor exposing the plaintext of an encrypted ``LargeBinary`` column as ``str``."""

    def __init__(self, column_attr: str) -> None:
        self.column_attr = column_attr
        self.name = column_attr
        self.owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner
        ENCRYPTED_FIELDS.append((owner, self))

    def aad(self, obj: Any) -> bytes:
        """Associated data binding a ciphertext to its table, column and row."""
        return self._row_aad(str(obj.uuid))

    def _row_aad(self, row_uuid: str) -> bytes:
        return make_aad(self.owner.__tablename__, self.column_attr, row_uuid)  # type: ignore[union-attr]

    def encrypt_for(self, row_uuid: str, value: str) -> bytes:
        """The ciphertext of ``value`` for the row ``row_uuid`` (for Core statements that bypass the ORM)."""
        return keyring().encrypt(value.encode("utf-8"), aad=self._row_aad(row_uuid))

    def decrypt_for(self, row_uuid: str, token: bytes) -> str:
        """The plaintext of a ciphertext read for the row ``row_uuid`` without loading the ORM object."""
        return keyring().decrypt(bytes(token), aad=self._row_aad(row_uuid)).decode("utf-8")

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        token = getattr(obj, self.column_attr)
        if token is None:
            return None
        return self.decrypt_for(str(obj.uuid), token)

    def __set__(self, obj: Any, value: str | None) -> None:
        if getattr(obj, "uuid", None) is None:
            obj.uuid = str(uuid4())
        if value is None:
            setattr(obj, self.column_attr, None)
            return
        setattr(obj, self.column_attr, self.encrypt_for(str(obj.uuid), value))

    def reencrypt(self, obj: Any, ring: Keyring) -> bool:
        """Re-encrypt ``obj``'s value under the primary key; True if it changed."""
        token = getattr(obj, self.column_attr)
        if token is None or not ring.needs_rotation(bytes(token)):
            return False
        setattr(obj, self.column_attr, ring.rotate(bytes(token), aad=self.aad(obj)))
        return True
