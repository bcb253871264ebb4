"""Printable code cards: the codes of one issue kept server-side, encrypted, until printed or for a short time.

A psychologist who reloads the cards page, switches its language or closes it by mistake must not lose the codes
(they exist nowhere else: sittings keep only an HMAC). So each issue is a :class:`CodeBatch` whose cards are
encrypted at rest (AES-GCM, bound to the row) and readable by the issuer only, until the issuer marks them printed
or ``SENIM_CODE_CARDS_KEPT`` (default 24 hours) has passed; then the codes are erased (on the next visit to a
campaign or cards page, or by ``flask screening purge-code-cards``). A lost card is replaced by issuing again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import Permission, visible_pupils
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, utcnow
from app.extensions import db
from app.screening.models import CodeBatch

if TYPE_CHECKING:
    from app.screening.models import Campaign


def new_batch(*, actor: User, campaign: Campaign, issued: list[tuple[Pupil, str, str]]) -> CodeBatch:
    """Keep the codes of one issue for printing: one card per pupil, in the order given. Not committed."""
    cards: dict[int, list[tuple[str, str]]] = {}
    for pupil, ref, code in issued:
        cards.setdefault(pupil.id, []).append((ref, code))
    now = utcnow()
    batch = CodeBatch(campaign_id=campaign.id, school_id=campaign.school_id, created_by_id=actor.id, created_at=now,
                      expires_at=now + current_app.config["SENIM_CODE_CARDS_KEPT"])
    batch.cards = list(cards.items())
    db.session.add(batch)
    db.session.flush()
    return batch


def purge_expired(now: datetime | None = None) -> int:
    """Erase the codes of every batch kept past its time and not marked printed; audited, committed. Returns how
    many batches were purged."""
    now = now or utcnow()
    batches = list(db.session.execute(select(CodeBatch).where(
        CodeBatch.purged_at.is_(None), CodeBatch.expires_at <= now).with_for_update(skip_locked=True)).scalars())
    for batch in batches:
        batch.cards_ct, batch.purged_at = None, now
        audit.record(None, AuditAction.SCREENING_CODES_PURGED, school_id=batch.school_id, object_type="code_batch",
                     object_id=batch.uuid, details={"cards": batch.card_count})
    db.session.commit()
    return len(batches)


def open_batches(*, actor: User, campaign: Campaign) -> list[CodeBatch]:
    """The actor's batches of ``campaign`` whose cards can still be printed, newest first (expired ones purged)."""
    purge_expired()
    return list(db.session.execute(select(CodeBatch).where(
        CodeBatch.campaign_id == campaign.id, CodeBatch.created_by_id == actor.id, CodeBatch.purged_at.is_(None))
        .order_by(CodeBatch.created_at.desc(), CodeBatch.id.desc())).scalars())


@dataclass(frozen=True)
class Card:
    """One printed card: a pupil and their codes, (instrument ref, code) in the campaign's order."""

    pupil: Pupil
    codes: list[tuple[str, str]]


def read_cards(*, actor: User, batch: CodeBatch) -> list[Card]:
    """The cards of a batch (empty once its codes are erased); each opening is audited before they are shown.
    Pupils are read through the actor's scope: one who has left it is left out."""
    purge_expired()
    db.session.refresh(batch)
    stored = batch.cards
    if not stored:
        return []
    pupils = {p.id: p for p in db.session.execute(visible_pupils(actor, Permission.SCREENING_CAMPAIGNS).where(
        Pupil.id.in_([pupil_id for pupil_id, _codes in stored]))).scalars()}
    audit.record_read(actor, AuditAction.SCREENING_CODES_VIEWED, school_id=batch.school_id, object_type="code_batch",
                      object_id=batch.uuid, details={"cards": len(stored)})
    return [Card(pupils[pupil_id], codes) for pupil_id, codes in stored if pupil_id in pupils]


def mark_printed(*, actor: User, batch: CodeBatch) -> None:
    """The issuer has printed the cards: erase their codes now; audited, committed."""
    if batch.purged_at is not None:
        return
    now = utcnow()
    batch.cards_ct, batch.printed_at, batch.purged_at = None, now, now
    audit.record(actor, AuditAction.SCREENING_CODES_PRINTED, school_id=batch.school_id, object_type="code_batch",
                 object_id=batch.uuid, details={"cards": batch.card_count})
    db.session.commit()
