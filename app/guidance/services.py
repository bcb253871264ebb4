"""Guidance library: write, review, publish and archive articles (each edit a new version), read them by
audience, topic and search, and choose them for parents. Each change is audited and committed here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, not_, or_, select

from app.auth.models import User
from app.auth.permissions import (
    Permission,
    can_see_pupil,
    guidance_edit_scope,
    visible_published_articles,
)
from app.core import audit
from app.core.audit import AuditAction
from app.core.markdown import clean_source, plain_text
from app.core.models import Pupil, School, utcnow
from app.extensions import db
from app.guidance.models import LANGUAGES, Article, ArticleVersion, Audience, Recommendation, Status, Topic
from app.monitoring.conflicts import versioned

#: Longest query a reader may search for, and how many words of it count.
QUERY_MAX, QUERY_WORDS = 200, 8


class GuidanceError(Exception):
    """A workflow step that is not allowed now; the message is shown to the user."""


@dataclass
class Draft:
    """What an author saves: one version's content (texts per language as typed; cleaned here)."""

    topic: str
    audiences: list[str]
    distress: bool = False
    position: int = 100
    titles: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    translations: dict[str, str] = field(default_factory=dict)
    sources: list[dict[str, str]] = field(default_factory=list)

    def validate(self) -> None:
        """Raise GuidanceError when the content cannot be saved (no audience, unknown topic, no language)."""
        if self.topic not in {t.value for t in Topic}:
            raise GuidanceError(_l("Choose a topic."))
        if not self.audiences or not set(self.audiences) <= {a.value for a in Audience}:
            raise GuidanceError(_l("Choose at least one audience."))
        if not any(self.titles.get(lang, "").strip() and clean_source(self.bodies.get(lang, ""))
                   for lang in LANGUAGES):
            raise GuidanceError(_l("Write the title and the text in at least one language."))


def _one_line(text: str | None, limit: int) -> str:
    return " ".join(clean_source(text or "").split())[:limit]


def _web_address(url: str | None) -> str:
    """A source's address if it is a web address (https:// or http://), else "" (no javascript: links)."""
    url = _one_line(url, 500)
    return url if re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE) else ""


def search_text(*parts: str) -> str:
    """Plain words, case-folded, ё as е: what search matches against (the same on SQLite and PostgreSQL)."""
    return " ".join(plain_text(p) for p in parts if p).casefold().replace("ё", "е")


def _version_fields(data: Draft) -> dict[str, Any]:
    data.validate()
    values: dict[str, Any] = {
        "topic": data.topic, "audiences": ",".join(a.value for a in Audience if a.value in data.audiences),
        "for_parents": Audience.PARENTS.value in data.audiences,
        "for_teachers": Audience.TEACHERS.value in data.audiences,
        "for_pupils": Audience.PUPILS.value in data.audiences,
        "distress": bool(data.distress), "position": int(data.position),
        "sources_json": json.dumps([{"text": _one_line(s.get("text"), 500), "url": _web_address(s.get("url"))}
                                    for s in data.sources if _one_line(s.get("text"), 500)], ensure_ascii=False),
    }
    for lang in LANGUAGES:
        title, summary = _one_line(data.titles.get(lang), 200), _one_line(data.summaries.get(lang), 500)
        body = clean_source(data.bodies.get(lang, ""))
        present = bool(title and body)
        values[f"title_{lang}"], values[f"summary_{lang}"] = title, summary
        values[f"body_{lang}"] = body
        status = data.translations.get(lang) or "written"
        values[f"translation_{lang}"] = status if present else ""
        values[f"search_{lang}"] = search_text(title, summary, body) if present else ""
    return values


def _add_version(article: Article, *, actor: User | None, values: dict[str, Any],
                 content_hash: str = "") -> ArticleVersion:
    number = (article.versions[-1].number + 1) if article.versions else 1
    row = ArticleVersion(number=number, author_id=actor.id if actor is not None else None, created_at=utcnow(),
                         content_hash=content_hash, **values)
    article.versions.append(row)
    return row


def _touch(article: Article, actor: User | None) -> None:
    article.updated_at = utcnow()
    article.updated_by_id = actor.id if actor is not None else None


def _audit(actor: User | None, action: AuditAction, article: Article, **details: Any) -> None:
    audit.record(actor, action, school_id=article.school_id, object_type="guidance_article",
                 object_id=article.uuid, details=details)


# --- writing -------------------------------------------------------------------------------------


def create_article(*, actor: User, school: School | None, data: Draft) -> Article:
    """Start an article (national when ``school`` is None) with its first version, as a draft."""
    article = Article(school_id=school.id if school is not None else None, status=Status.DRAFT.value,
                      created_by_id=actor.id)
    _touch(article, actor)
    db.session.add(article)
    _add_version(article, actor=actor, values=_version_fields(data))
    db.session.flush()
    _audit(actor, AuditAction.GUIDANCE_CREATED, article, number=1)
    db.session.commit()
    return article


def save_version(*, actor: User, article: Article, version: int | None, data: Draft) -> ArticleVersion:
    """Save an edit as a new version. A published article stays readable in its published version; the article
    becomes a draft again (an archived one too). Raises EditConflict for a stale form."""
    values = _version_fields(data)
    with versioned(actor=actor, record=article, version=version, object_type="guidance_article"):
        row = _add_version(article, actor=actor, values=values)
        article.status = Status.DRAFT.value
        _touch(article, actor)
        db.session.flush()
        _audit(actor, AuditAction.GUIDANCE_EDITED, article, number=row.number)
    return row


def _step(*, actor: User, article: Article, version: int | None, allowed: set[Status], to: Status,
          action: AuditAction, refusal: Any) -> None:
    if Status(article.status) not in allowed:
        raise GuidanceError(refusal)
    with versioned(actor=actor, record=article, version=version, object_type="guidance_article"):
        article.status = to.value
        _touch(article, actor)
        _audit(actor, action, article, number=article.latest.number)


def submit(*, actor: User, article: Article, version: int | None) -> None:
    """Draft → in review."""
    _step(actor=actor, article=article, version=version, allowed={Status.DRAFT}, to=Status.REVIEW,
          action=AuditAction.GUIDANCE_SUBMITTED, refusal=_l("Only a draft can be sent for review."))


def send_back(*, actor: User, article: Article, version: int | None) -> None:
    """In review → draft (the reviewer asks for changes)."""
    _step(actor=actor, article=article, version=version, allowed={Status.REVIEW}, to=Status.DRAFT,
          action=AuditAction.GUIDANCE_RETURNED, refusal=_l("Only an article in review can be sent back."))


def archive(*, actor: User, article: Article, version: int | None) -> None:
    """Any status → archived: readers no longer see it."""
    _step(actor=actor, article=article, version=version,
          allowed={Status.DRAFT, Status.REVIEW, Status.PUBLISHED}, to=Status.ARCHIVED,
          action=AuditAction.GUIDANCE_ARCHIVED, refusal=_l("The article is already archived."))


def restore(*, actor: User, article: Article, version: int | None) -> None:
    """Archived → draft (publish it again through review)."""
    _step(actor=actor, article=article, version=version, allowed={Status.ARCHIVED}, to=Status.DRAFT,
          action=AuditAction.GUIDANCE_RESTORED, refusal=_l("Only an archived article can be restored."))


def publish(*, actor: User, article: Article, version: int | None) -> ArticleVersion:
    """In review → published: readers see the newest version from now on; the reviewer is recorded on it and
    must be another person than the one who wrote it."""
    if Status(article.status) is not Status.REVIEW:
        raise GuidanceError(_l("Only an article in review can be published."))
    latest = article.latest
    if latest.author_id == actor.id:
        raise GuidanceError(_l("Another person must review and publish what you wrote."))
    with versioned(actor=actor, record=article, version=version, object_type="guidance_article"):
        latest.reviewer_id, latest.reviewed_at = actor.id, utcnow()
        article.status, article.published_number = Status.PUBLISHED.value, latest.number
        _touch(article, actor)
        _audit(actor, AuditAction.GUIDANCE_PUBLISHED, article, number=latest.number)
    return latest


def editable_articles(*, actor: User) -> list[Article]:
    """Every article ``actor`` may edit or review: national ones for national editors, their school's else."""
    scope = or_(guidance_edit_scope(actor, Permission.GUIDANCE_WRITE),
                guidance_edit_scope(actor, Permission.GUIDANCE_REVIEW))
    return list(db.session.execute(select(Article).where(scope).order_by(Article.updated_at.desc(), Article.id))
                .scalars())


def can_review(actor: User, article: Article) -> bool:
    """True if ``actor`` may review this article (role and school) and did not write its newest version."""
    query = select(Article.id).where(Article.id == article.id,
                                     guidance_edit_scope(actor, Permission.GUIDANCE_REVIEW))
    return db.session.execute(query).first() is not None and article.latest.author_id != actor.id


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """An article in a list, in the language the reader sees."""

    uuid: str
    title: str
    summary: str
    topic: str
    language: str
    national: bool


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def words(query: str | None) -> list[str]:
    """The search words of a query (case-folded, at most QUERY_WORDS)."""
    text = search_text(query or "")[:QUERY_MAX] if query else ""
    return [w for w in re.split(r"\s+", text) if w][:QUERY_WORDS]


def _language_order(language: str) -> tuple[str, ...]:
    from app.guidance.models import FALLBACK

    return FALLBACK.get(language, LANGUAGES)


def _matches(found: list[str], language: str) -> Any:
    """Every word in the search text of the language the reader is shown (theirs, else the fallback)."""
    order = _language_order(language)
    branches = []
    for i, lang in enumerate(order):
        column = getattr(ArticleVersion, f"search_{lang}")
        missing_before = [getattr(ArticleVersion, f"search_{earlier}") == "" for earlier in order[:i]]
        branches.append(and_(*missing_before, column != "",
                             *[column.like(_like(w), escape="\\") for w in found]))
    return or_(*branches)


def library(*, reader: User, audience: str, language: str, topic: str | None = None,
            query: str | None = None) -> list[Card]:
    """Published articles for ``audience`` that ``reader`` may see, by topic and/or search words."""
    statement: Select = visible_published_articles(reader, audience)
    if topic:
        statement = statement.where(ArticleVersion.topic == topic)
    found = words(query)
    if found:
        statement = statement.where(_matches(found, language))
    rows = db.session.execute(statement.order_by(ArticleVersion.position, Article.id)).all()
    cards = []
    for article, version in rows:
        shown = version.shown_language(language)
        cards.append(Card(uuid=article.uuid, title=version.text("title", shown),
                          summary=version.text("summary", shown), topic=version.topic, language=shown,
                          national=article.national))
    return cards


def topics_with_articles(*, reader: User, audience: str) -> list[str]:
    """Topics (in Topic order) that have at least one article for ``audience``."""
    statement = visible_published_articles(reader, audience).with_only_columns(ArticleVersion.topic).distinct()
    present = set(db.session.execute(statement).scalars())
    return [t.value for t in Topic if t.value in present]


# --- chosen for parents ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """An article a psychologist chose for a child's parents."""

    uuid: str
    title: str
    summary: str
    language: str
    chosen_on: datetime


def recommend(*, actor: User, article: Article, pupils: list[Pupil]) -> int:
    """Choose a published article for the parents of ``pupils`` (of the actor's school); returns how many new
    choices were made (a pupil who already has it is skipped)."""
    if article.published_number is None or Status(article.status) is Status.ARCHIVED:
        raise GuidanceError(_l("Only a published article can be chosen for parents."))
    pupils = [p for p in pupils if can_see_pupil(actor, p, Permission.GUIDANCE_RECOMMEND)]
    if not pupils:
        raise GuidanceError(_l("Choose a class or a pupil."))
    already = set(db.session.execute(select(Recommendation.pupil_id).where(
        Recommendation.article_id == article.id,
        Recommendation.pupil_id.in_([p.id for p in pupils]))).scalars())
    added = 0
    for pupil in pupils:
        if pupil.id in already:
            continue
        db.session.add(Recommendation(article_id=article.id, pupil_id=pupil.id, school_id=pupil.school_id,
                                      created_by_id=actor.id))
        db.session.flush()
        audit.record(actor, AuditAction.GUIDANCE_RECOMMENDED, school_id=pupil.school_id, pupil_id=pupil.id,
                     object_type="guidance_article", object_id=article.uuid)
        added += 1
    db.session.commit()
    return added


def chosen_for(pupil: Any, *, language: str) -> list[Chosen]:
    """Published articles chosen for this pupil's parents, newest first (``pupil``: a Pupil or anything with
    its ``uuid``, such as the parent pages' child summary). The caller has already scoped the pupil."""
    pupil_id = getattr(pupil, "id", None)
    if not isinstance(pupil_id, int):
        pupil_id = db.session.execute(select(Pupil.id).where(Pupil.uuid == getattr(pupil, "uuid", ""))).scalar()
    if pupil_id is None:
        return []
    rows = db.session.execute(
        select(Article, ArticleVersion, Recommendation.created_at)
        .join(Recommendation, Recommendation.article_id == Article.id)
        .join(ArticleVersion, and_(ArticleVersion.article_id == Article.id,
                                   ArticleVersion.number == Article.published_number))
        .where(Recommendation.pupil_id == pupil_id, not_(Article.status == Status.ARCHIVED.value),
               ArticleVersion.for_parents.is_(True))
        .order_by(Recommendation.created_at.desc(), Recommendation.id.desc())).all()
    chosen = []
    for article, version, when in rows:
        shown = version.shown_language(language)
        chosen.append(Chosen(uuid=article.uuid, title=version.text("title", shown),
                             summary=version.text("summary", shown), language=shown, chosen_on=when))
    return chosen
