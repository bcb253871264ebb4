"""Per-school data keys (envelope encryption) and the :class:`SchoolEncrypted` column descriptor.

Monitoring records (registries, case files, notes) are encrypted under their school's own 256-bit data key,
not directly under the master keyring. Each school's key is stored in :class:`SchoolKey` wrapped by the master
keyring (:meth:`~app.core.crypto.Keyring.wrap_key`, context naming the school and the key), created on first use.
So:

* a damaged or unwrappable key of one school makes only that school's records unreadable (the integrity page,
  audited in that school's chain); other schools keep working;
* ``flask keys rotate`` re-wraps the data keys under the current primary master key without touching the
  records (``--school ID`` for one school);
* a ciphertext's associated data binds table, column, row uuid *and* school id: a value moved to another row or
  another school's row fails to decrypt.

Unwrapped keys live only for the current database transaction (``session.info``), so a key changed in the
database is read again at the next transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import ForeignKey, LargeBinary, String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.crypto import DecryptionError, Keyring, generate_key, make_aad
from app.core.encryption import keyring as master_keyring
from app.core.models import utcnow
from app.extensions import Model, db

#: Session.info key of the keyrings unwrapped in the current transaction.
_CACHE = "senim_school_keyrings"


class SchoolKeyUnavailable(DecryptionError):
    """A school's data key is missing, damaged or cannot be unwrapped by the master keyring."""

    def __init__(self, school_id: int, reason: str) -> None:
        super().__init__(f"data key of school {school_id}: {reason}")
        self.school_id = school_id


class SchoolKey(Model):
    """One data key of a school, wrapped by the master keyring. The newest key of a school encrypts."""

    __tablename__ = "school_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The key's id as written in the header of every ciphertext it makes, e.g. "s7-1" (not secret; unique, so
    #: two transactions creating a school's first key at once end up with one).
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    #: Secret (key material): the 256-bit data key encrypted under the master keyring (wrap_key, see wrap_context).
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the key was last re-wrapped under a newer master key (flask keys rotate).
    rewrapped_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<SchoolKey {self.key_id}>"


def wrap_context(school_id: int, key_id: str) -> str:
    """The wrap_key context of a school's data key: names the school and the key, so a wrapped key copied to
    another school or under another id does not unwrap."""
    return f"school_keys|school:{school_id}|key:{key_id}"


def _first_key_id(school_id: int) -> str:
    return f"s{school_id}-1"


def _cache() -> dict[int, Keyring]:
    return db.session.info.setdefault(_CACHE, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_keys(session: Session, transaction: Any) -> None:
    """Keys unwrapped in a transaction are not reused after it: a rotated or damaged key is seen at once."""
    if transaction.parent is None:
        session.info.pop(_CACHE, None)


def _load(school_id: int) -> Keyring | None:
    rows = db.session.execute(
        select(SchoolKey.key_id, SchoolKey.wrapped_key).where(SchoolKey.school_id == school_id)
        .order_by(SchoolKey.id.desc())
    ).all()
    if not rows:
        return None
    ring = master_keyring()
    try:
        keys = [(key_id, ring.unwrap_key(bytes(wrapped), context=wrap_context(school_id, key_id)))
                for key_id, wrapped in rows]
    except DecryptionError:
        raise SchoolKeyUnavailable(school_id, "does not unwrap (damaged, or its master key is gone)") from None
    return Keyring(keys)


def _create(school_id: int) -> None:
    """Insert the school's first data key unless another transaction did (then wait for it and use its key)."""
    key_id = _first_key_id(school_id)
    values = {"school_id": school_id, "key_id": key_id, "created_at": utcnow(),
              "wrapped_key": master_keyring().wrap_key(generate_key(), context=wrap_context(school_id, key_id))}
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SchoolKey.__table__)
    db.session.execute(insert.values(values).on_conflict_do_nothing())


def school_keyring(school_id: int, *, create: bool = False) -> Keyring:
    """The school's data keys (newest first) for this transaction; with ``create`` its first key is made if it
    has none. Raises :class:`SchoolKeyUnavailable` when a key does not unwrap, or is missing and not created."""
    cache = _cache()
    if school_id in cache:
        return cache[school_id]
    with db.session.no_autoflush:  # callers may hold half-built objects; the key row needs none of them
        ring = _load(school_id)
        if ring is None and create:
            _create(school_id)
            ring = _load(school_id)
    if ring is None:
        raise SchoolKeyUnavailable(school_id, "no data key")
    cache[school_id] = ring
    return ring


@dataclass(frozen=True)
class Rewrapped:
    """What :func:`rewrap` did for one school: keys re-wrapped, and keys that do not unwrap (left as they are)."""

    school_id: int
    keys: int
    damaged: int = 0


def rewrap(*, school_id: int | None = None) -> list[Rewrapped]:
    """Re-wrap data keys not yet under the primary master key (one school's, or every school's). The data keys
    themselves, and so every record, stay as they are; a key that does not unwrap is counted as damaged and
    left alone, the other schools go on. The caller audits and commits."""
    ring = master_keyring()
    query = select(SchoolKey).order_by(SchoolKey.school_id, SchoolKey.id)
    if school_id is not None:
        query = query.where(SchoolKey.school_id == school_id)
    done: dict[int, list[int]] = {}
    for key in db.session.execute(query).scalars():
        counts = done.setdefault(key.school_id, [0, 0])
        wrapped = bytes(key.wrapped_key)
        context = wrap_context(key.school_id, key.key_id)
        try:
            if not ring.needs_rotation(wrapped):
                continue
            data_key = ring.unwrap_key(wrapped, context=context)
        except DecryptionError:
            counts[1] += 1
            continue
        key.wrapped_key = ring.wrap_key(data_key, context=context)
        key.rewrapped_at = utcnow()
        counts[0] += 1
    return [Rewrapped(sid, keys, damaged) for sid, (keys, damaged) in done.items() if keys or damaged]


#: Every (model, descriptor) pair encrypted under school keys (for a future data-key rotation).
SCHOOL_ENCRYPTED_FIELDS: list[tuple[type, SchoolEncrypted]] = []


class SchoolEncrypted:
    """Descriptor exposing an encrypted ``LargeBinary`` column as ``str``, encrypted under the row's school key.

    The row needs ``school_id`` (set before the value) and ``uuid`` (made here if missing). The associated data
    binds the ciphertext to its table, column, row and school.
    """

    def __init__(self, column_attr: str) -> None:
        self.column_attr = column_attr
        self.name = column_attr
        self.owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.owner = owner
        SCHOOL_ENCRYPTED_FIELDS.append((owner, self))

    def _aad(self, obj: Any) -> bytes:
        return make_aad(self.owner.__tablename__, self.column_attr, str(obj.uuid),  # type: ignore[union-attr]
                        school_id=obj.school_id)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        token = getattr(obj, self.column_attr)
        if token is None:
            return None
        return school_keyring(obj.school_id).decrypt(bytes(token), aad=self._aad(obj)).decode("utf-8")

    def __set__(self, obj: Any, value: str | None) -> None:
        if getattr(obj, "school_id", None) is None:
            raise ValueError(f"{type(obj).__name__}.school_id must be set before {self.name}")
        if getattr(obj, "uuid", None) is None:
            obj.uuid = str(uuid4())
        if value is None:
            setattr(obj, self.column_attr, None)
            return
        ring = school_keyring(obj.school_id, create=True)
        setattr(obj, self.column_attr, ring.encrypt(value.encode("utf-8"), aad=self._aad(obj)))
