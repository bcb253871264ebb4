"""D32 nothing in plaintext at rest, D33 ciphertext moved between rows, D34 key rotation, D35 bad keys."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from flask import Flask, template_rendered
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app.core.audit import AuditAction, AuditEntry
from app.core.crypto import generate_key_b64
from app.core.encryption import keyring
from app.core.models import Pupil
from app.core.startup import ConfigurationError
from app.extensions import db
from tests.factories import SECRET_MARKER, make_class, make_pupil
from tests.security.helpers import all_text_values, contains, signed_in


def _identity_values(world) -> list[str]:
    values = [SECRET_MARKER]
    for pupil in (world.p1, world.p2, world.p3):
        values += [pupil.last_name, pupil.first_name, pupil.patronymic, pupil.iin]
    return values


def test_no_plaintext_identity_in_pupils_or_users(world) -> None:
    secrets_ = _identity_values(world)
    db.session.commit()
    for table in ("pupils", "users"):
        rows = db.session.execute(text(f"SELECT * FROM {table}")).mappings().all()  # noqa: S608 - constants
        assert rows
        for row in rows:
            for column, value in row.items():
                if isinstance(value, str | bytes | memoryview):
                    leaked = [s for s in secrets_ if contains(value, s)]
                    assert not leaked, f"{table}.{column} holds plaintext"


def test_no_marker_anywhere_in_the_database(app: Flask, world) -> None:
    """Every text and binary cell of every table (the SQL equivalent of a dump) is free of the marker."""
    for user in (world.psy1, world.t7a):
        client = signed_in(app, user)
        client.get("/pupils")
        client.get(f"/pupils/{world.p1.uuid}")
    db.session.commit()
    secrets_ = _identity_values(world)
    for table, column, value in all_text_values():
        leaked = [s for s in secrets_ if contains(value, s)]
        assert not leaked, f"{table}.{column} holds plaintext"


@pytest.mark.sqlite_only
def test_sqlite_file_holds_no_marker(app: Flask, world) -> None:
    db.session.commit()
    path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    raw = path.read_bytes()
    assert raw, "the database file is empty"
    assert SECRET_MARKER.encode() not in raw
    assert world.p1.first_name.encode() not in raw
    assert world.p1.iin.encode() not in raw


def test_name_index_differs_between_schools(world) -> None:
    here = make_pupil(world.c7a, last_name="Бірдей", first_name="Есім")
    there = make_pupil(make_class(world.s2, grade=5), last_name="Бірдей", first_name="Есім")
    db.session.commit()
    assert here.name_bidx and there.name_bidx
    assert here.name_bidx != there.name_bidx


# --- D33: a ciphertext moved to another row -----------------------------------------------------------


def test_ciphertext_moved_between_rows_shows_the_integrity_page(app: Flask, world) -> None:
    other_name = world.p2.last_name
    client = signed_in(app, world.psy1)
    db.session.execute(
        text("UPDATE pupils SET last_name_ct = (SELECT last_name_ct FROM pupils WHERE id = :p2) WHERE id = :p1"),
        {"p1": world.p1.id, "p2": world.p2.id},
    )
    db.session.commit()
    rendered: list[str] = []

    def remember(sender, template, context, **extra):
        rendered.append(template.name)

    with template_rendered.connected_to(remember, app):
        response = client.get(f"/pupils/{world.p1.uuid}")
    assert response.status_code == 500
    assert rendered[-1] == "errors/integrity.html"
    body = response.get_data(as_text=True)
    assert other_name not in body and SECRET_MARKER not in body
    failures = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == str(AuditAction.CRYPTO_INTEGRITY_FAILED))
    ).scalars().all()
    assert len(failures) == 1 and failures[0].actor_id == world.psy1.id


# --- D34: rotation without downtime -------------------------------------------------------------------


def _spec(key_id: str, key: str) -> str:
    return f"{key_id}:{key}"


def _key_ids(column: str) -> set[str]:
    """Ids of the keys the column's values are encrypted under (read from the token headers)."""
    query = f"SELECT {column} FROM pupils WHERE {column} IS NOT NULL"  # noqa: S608 - column names are constants
    return {keyring().key_id_of(bytes(token)) for token in db.session.execute(text(query)).scalars()}


def test_key_rotation_re_encrypts_everything(app_ctx: Flask, make_app) -> None:
    k1, k2 = generate_key_b64(), generate_key_b64()
    old = make_app(SENIM_ENCRYPTION_KEYS=_spec("k1", k1))
    both = make_app(SENIM_ENCRYPTION_KEYS=f"{_spec('k2', k2)},{_spec('k1', k1)}")
    new = make_app(SENIM_ENCRYPTION_KEYS=_spec("k2", k2))
    db.session.commit()  # the suite's own session holds no lock while the other apps write

    with old.app_context():
        pupils = [make_pupil(last_name=f"{SECRET_MARKER}-Ротация{n}") for n in range(3)]
        expected = {p.uuid: (p.full_name, p.iin) for p in pupils}
        db.session.commit()
        assert _key_ids("last_name_ct") == {"k1"}

    with both.app_context():  # k2 encrypts, k1 still decrypts: reads keep working before the rotation
        assert _read_all() == expected

    with both.app_context():  # the CLI runs in the app context it finds
        result = both.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "under key k2" in result.output
        for column in ("last_name_ct", "first_name_ct", "patronymic_ct", "iin_ct"):
            assert _key_ids(column) == {"k2"}, column
        rotated = db.session.execute(
            select(AuditEntry).where(AuditEntry.action == str(AuditAction.KEYS_ROTATED))
        ).scalars().all()
        assert rotated and all(SECRET_MARKER not in e.details for e in rotated)

    with new.app_context():  # k1 is gone from the keyring: everything still reads
        assert _read_all() == expected


def _read_all() -> dict[str, tuple[str, str | None]]:
    pupils = db.session.execute(select(Pupil)).scalars().all()
    result = {p.uuid: (p.full_name, p.iin) for p in pupils}
    db.session.rollback()
    return result


# --- D35: missing or bad keys ------------------------------------------------------------------------


def test_a_short_key_is_refused_even_outside_production(make_app) -> None:
    short = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()
    with pytest.raises(ConfigurationError, match="32 bytes"):
        make_app(SENIM_ENCRYPTION_KEYS=_spec("k1", short))
