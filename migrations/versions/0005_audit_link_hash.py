"""audit link hash: row_hash = sha256(prev_hash|seq|content hash), computable by PostgreSQL in one statement

Revision ID: 0005_audit_link_hash
Revises: 0004_password_change_required
Create Date: 2026-11-27 12:00:00

Reviewed by hand: no app imports (the two hash schemes are spelled out below). An entry's row_hash was
SHA-256 over the canonical JSON of all its fields including chain_seq and prev_hash; it becomes SHA-256
of "prev_hash|chain_seq|content_hash", where content_hash is the same canonical JSON without chain_seq
and prev_hash. Tamper evidence is unchanged (every field is still covered, each entry still depends on
the one before), but PostgreSQL can now compute the link itself, so an audited write locks the chain
head and appends its entry in one statement (app/core/audit.py). audit_chain_heads gains prev_hash, the
hash before last_hash, which that statement's RETURNING hands to the new entry.

Existing chains are first verified under the old scheme — the upgrade refuses to run on a chain that
does not verify, so re-hashing can never launder an edited entry — then re-hashed in order. On
PostgreSQL the append-only trigger is disabled for the re-hash only, inside this transaction. The
downgrade does the same in reverse.
"""
import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_audit_link_hash'
down_revision = '0004_password_change_required'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
CONTENT_FIELDS = ("chain_id", "at", "actor_id", "actor_role", "action", "outcome", "school_id", "pupil_id",
                  "object_type", "object_id", "ip", "request_id", "details")
OLD_FIELDS = (*CONTENT_FIELDS, "chain_seq", "prev_hash")


def _canonical_sha(values, fields):
    canonical = {}
    for name in fields:
        value = values[name]
        if isinstance(value, datetime):
            value = (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC))
            value = value.isoformat(timespec="microseconds")
        canonical[name] = value
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _old_hash(values):
    return _canonical_sha(values, OLD_FIELDS)


def _new_hash(values):
    content = _canonical_sha(values, CONTENT_FIELDS)
    return hashlib.sha256(f"{values['prev_hash']}|{values['chain_seq']}|{content}".encode("ascii")).hexdigest()


def _verified_chains(check):
    """Every chain's entries, after verifying them with ``check`` (RuntimeError on the first defect)."""
    conn = op.get_bind()
    columns = ", ".join(("id", *OLD_FIELDS, "row_hash"))
    query = sa.text(f"SELECT {columns} FROM audit_entries ORDER BY chain_id, chain_seq").columns(  # noqa: S608
        at=sa.DateTime(timezone=True))
    rows = conn.execute(query).mappings().all()
    chains = {}
    for row in rows:
        chains.setdefault(row["chain_id"], []).append(dict(row))
    for chain_id, entries in chains.items():
        prev = GENESIS
        for expected_seq, entry in enumerate(entries, start=1):
            if entry["chain_seq"] != expected_seq or entry["prev_hash"] != prev or check(entry) != entry["row_hash"]:
                raise RuntimeError(f"audit chain {chain_id} does not verify at seq {expected_seq}: run "
                                   "`flask audit verify` with the previous version; the upgrade re-hashes only "
                                   "intact chains")
            prev = entry["row_hash"]
    return chains


def _rewrite(chains, make):
    """Rewrite prev_hash/row_hash of every entry and the heads with ``make``."""
    conn = op.get_bind()
    is_postgres = conn.dialect.name == "postgresql"
    if is_postgres:
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update_delete")
    for chain_id, entries in chains.items():
        prev = before = GENESIS
        for entry in entries:
            entry["prev_hash"] = prev
            new = make(entry)
            conn.execute(sa.text("UPDATE audit_entries SET prev_hash = :prev, row_hash = :new WHERE id = :id"),
                         {"prev": prev, "new": new, "id": entry["id"]})
            before, prev = prev, new
        conn.execute(sa.text("UPDATE audit_chain_heads SET last_hash = :last WHERE chain_id = :chain"),
                     {"last": prev, "chain": chain_id})
        if make is _new_hash:
            conn.execute(sa.text("UPDATE audit_chain_heads SET prev_hash = :before WHERE chain_id = :chain"),
                         {"before": before, "chain": chain_id})
    if is_postgres:
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_update_delete")


def upgrade():
    chains = _verified_chains(_old_hash)  # before any change: SQLite's DDL is not transactional
    with op.batch_alter_table('audit_chain_heads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), server_default=GENESIS, nullable=False))
    _rewrite(chains, _new_hash)


def downgrade():
    _rewrite(_verified_chains(_new_hash), _old_hash)
    with op.batch_alter_table('audit_chain_heads', schema=None) as batch_op:
        batch_op.drop_column('prev_hash')
