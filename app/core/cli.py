"""Operator commands: ``flask audit …``, ``flask keys …`` and ``flask demo …``."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.core import audit
from app.core.crypto import generate_key_b64
from app.core.encryption import ENCRYPTED_FIELDS, Encrypted, keyring
from app.core.models import School
from app.extensions import db

audit_cli = AppGroup("audit", help="Check the tamper-evident audit trail.")
keys_cli = AppGroup("keys", help="Generate and rotate encryption keys.")
demo_cli = AppGroup("demo", help="Demo data for development (refused in production).")


@audit_cli.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False),
              help="A file written earlier by 'flask audit checkpoint', kept off this machine.")
def audit_verify(checkpoint_file: str | None) -> None:
    """Recompute every hash chain; exit 1 and name each edited or missing entry."""
    saved = None
    if checkpoint_file:
        raw = json.loads(Path(checkpoint_file).read_text(encoding="utf-8"))
        saved = {int(chain): (int(v["seq"]), str(v["hash"])) for chain, v in raw.items()}
    problems = audit.verify(saved)
    count = db.session.execute(select(db.func.count()).select_from(audit.AuditEntry)).scalar_one()
    if problems:
        for problem in problems:
            click.echo(f"TAMPERED {problem}", err=True)
        click.echo(f"audit verify: {len(problems)} problem(s) in {count} entries", err=True)
        sys.exit(1)
    click.echo(f"audit verify: OK, {count} entries intact")


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Print the head of every chain as JSON, to be stored off this machine."""
    heads = {str(chain): {"seq": seq, "hash": digest} for chain, (seq, digest) in audit.checkpoint().items()}
    click.echo(json.dumps(heads, indent=2, sort_keys=True))


@keys_cli.command("generate")
@click.option("--key-id", required=True, help="Id of the new key, e.g. 2026a.")
def keys_generate(key_id: str) -> None:
    """Print a new 256-bit key entry to put first in SENIM_ENCRYPTION_KEYS."""
    click.echo(f"{key_id}:{generate_key_b64()}")


@keys_cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True)
@click.option("--school", "school_id", type=int, default=None,
              help="Only re-wrap this school's data keys under the primary master key (nothing else).")
def keys_rotate(batch_size: int, school_id: int | None) -> None:
    """Re-encrypt every value not yet under the primary key and re-wrap the schools' data keys (safe to run
    while serving); with --school, only re-wrap that school's data keys."""
    if school_id is not None:
        if db.session.get(School, school_id) is None:
            click.echo(f"keys rotate: no school {school_id}", err=True)
            sys.exit(2)
        count = _rewrap_school_keys(school_id)
        click.echo(f"keys rotate: {count} data key(s) of school {school_id} re-wrapped under key "
                   f"{keyring().primary_id}")
        return
    _reencrypt_values(batch_size)
    count = _rewrap_school_keys(None)
    click.echo(f"school keys: {count} data key(s) re-wrapped")


def _rewrap_school_keys(school_id: int | None) -> int:
    """Re-wrap data keys under the primary master key, one audit entry per school, in one transaction; name each
    school whose key does not unwrap (exit status 1 after the others are done)."""
    from app.core import school_keys

    done = school_keys.rewrap(school_id=school_id)
    for item in done:
        audit.record(None, audit.AuditAction.KEYS_ROTATED,
                     outcome=audit.Outcome.FAILED if item.damaged else audit.Outcome.SUCCESS,
                     school_id=item.school_id,
                     details={"school_keys": item.keys, "damaged": item.damaged, "key": keyring().primary_id})
    db.session.commit()
    damaged = [item.school_id for item in done if item.damaged]
    for sid in damaged:
        click.echo(f"school {sid}: a data key does not unwrap (damaged, or its master key is gone); left as it is",
                   err=True)
    if damaged:
        sys.exit(1)
    return sum(item.keys for item in done)


def _reencrypt_values(batch_size: int) -> None:
    ring = keyring()
    # Model class (each mapped, with an integer ``id``) -> its encrypted columns.
    fields: defaultdict[type[Any], list[Encrypted]] = defaultdict(list)
    for model, descriptor in ENCRYPTED_FIELDS:
        fields[model].append(descriptor)
    total = 0
    for model, descriptors in fields.items():
        last_id = 0
        while True:
            rows = db.session.execute(
                select(model).where(model.id > last_id).order_by(model.id).limit(batch_size)
            ).scalars().all()
            if not rows:
                break
            changed = sum(1 for row in rows for d in descriptors if d.reencrypt(row, ring))
            last_id = rows[-1].id
            if changed:
                audit.record(None, audit.AuditAction.KEYS_ROTATED,
                             details={"table": model.__tablename__, "values": changed, "key": ring.primary_id})
            db.session.commit()
            total += changed
        click.echo(f"{model.__tablename__}: done")
    click.echo(f"keys rotate: {total} value(s) re-encrypted under key {ring.primary_id}")


@demo_cli.command("create")
@click.option("--reset", is_flag=True, help="Delete all data first.")
def demo_create(reset: bool) -> None:
    """Create a demo region, district, school, classes, ~60 pupils, parents and one user per role."""
    from app.core import demo

    if not current_app.config.get("SENIM_DEMO_ALLOWED"):
        click.echo("Demo accounts are refused in this configuration (production).", err=True)
        sys.exit(2)
    if demo.exists() and not reset:
        click.echo("Demo data already exists (use --reset to recreate it).")
    else:
        demo.create(reset=reset)
    for step in demo.AFTER_CREATE.values():
        click.echo(step())
    click.echo(demo.credentials_text())


@demo_cli.command("credentials")
def demo_credentials() -> None:
    """Print the demo sign-ins and the TOTP secrets of roles that need a second factor."""
    if not current_app.config.get("SENIM_DEMO_ALLOWED"):
        click.echo("No demo accounts in this configuration.", err=True)
        sys.exit(2)
    from app.core import demo

    click.echo(demo.credentials_text())
