"""Guidance articles and their versions.

An :class:`Article` is national (``school_id`` None, kept by admins) or of one school (kept by its
psychologists). Every saved edit is a new :class:`ArticleVersion` (author, time); publishing points the article
at one version (``published_version_id``) and records the reviewer on it, so readers keep reading the published
version while a newer draft is edited. Articles are public guidance texts, not personal data.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import new_uuid, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.core.models import School

LANGUAGES = ("kk", "ru", "en")
#: Which language a reader sees when theirs is missing, in order.
FALLBACK = {"kk": ("kk", "ru", "en"), "ru": ("ru", "kk", "en"), "en": ("en", "ru", "kk")}


class Status(enum.StrEnum):
    """Where the article's newest version is in the workflow."""

    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Audience(enum.StrEnum):
    PARENTS = "parents"
    TEACHERS = "teachers"
    PUPILS = "pupils"


class Topic(enum.StrEnum):
    """The topics of CONTENT_FORMAT.md (stable keys; labels in app.guidance.labels)."""

    SIGNS_OF_DISTRESS = "signs-of-distress"
    TALKING_WITH_A_TEENAGER = "talking-with-a-teenager"
    BULLYING = "bullying"
    ONLINE_SAFETY = "online-safety"
    FAMILY = "family"
    EXAM_STRESS = "exam-stress"
    GRIEF = "grief"
    SCHOOL_PSYCHOLOGIST = "school-psychologist"


class Translation(enum.StrEnum):
    """How a language's text came about; readers are told unless it is written or reviewed."""

    WRITTEN = "written"
    REVIEWED = "reviewed"
    MACHINE = "machine"


class Article(Model):
    """One guidance article; its texts are in :class:`ArticleVersion` rows."""

    __tablename__ = "guidance_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    #: None: a national article (admins). Else the school whose psychologists keep it.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The content folder it was imported from (national articles from the repository), else None.
    slug: Mapped[str | None] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT.value, index=True)
    #: The number of the version readers see; None until first published.
    published_number: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Optimistic locking: every UPDATE checks and increments it.
    version: Mapped[int] = mapped_column(default=1)

    school: Mapped[School | None] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.number", foreign_keys="ArticleVersion.article_id")

    __mapper_args__ = {"version_id_col": version}

    #: The conflict page and its audit entry read these (an article concerns no pupil).
    pupil_id = None

    @property
    def national(self) -> bool:
        return self.school_id is None

    @property
    def latest(self) -> ArticleVersion:
        return self.versions[-1]

    @property
    def published(self) -> ArticleVersion | None:
        """The version readers see, or None."""
        return next((v for v in self.versions if v.number == self.published_number), None)

    def __repr__(self) -> str:
        return f"<Article {self.id}>"


class ArticleVersion(Model):
    """One saved state of an article: texts in three languages, metadata, sources; who saved it and when."""

    __tablename__ = "guidance_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("guidance_articles.id"), index=True)
    #: 1, 2, 3… within the article.
    number: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who published this version (another person than its author), and when; None while unpublished.
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    #: Comma-separated audiences (parents, teachers, pupils).
    audiences: Mapped[str] = mapped_column(String(40))
    for_parents: Mapped[bool] = mapped_column(default=False, index=True)
    for_teachers: Mapped[bool] = mapped_column(default=False, index=True)
    for_pupils: Mapped[bool] = mapped_column(default=False, index=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    #: The text discusses distress or risk: its page shows the help directory.
    distress: Mapped[bool] = mapped_column(default=False)
    #: Position in lists (smaller first).
    position: Mapped[int] = mapped_column(default=100)
    title_kk: Mapped[str] = mapped_column(String(200), default="")
    title_ru: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    summary_kk: Mapped[str] = mapped_column(String(500), default="")
    summary_ru: Mapped[str] = mapped_column(String(500), default="")
    summary_en: Mapped[str] = mapped_column(String(500), default="")
    #: Markdown, cleaned on save (app.core.markdown.clean_source); rendered with ``render``.
    body_kk: Mapped[str] = mapped_column(Text, default="")
    body_ru: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    #: written | reviewed | machine, or "" when the language is missing.
    translation_kk: Mapped[str] = mapped_column(String(16), default="")
    translation_ru: Mapped[str] = mapped_column(String(16), default="")
    translation_en: Mapped[str] = mapped_column(String(16), default="")
    #: Title, summary and body as plain, case-folded words, for search on any database.
    search_kk: Mapped[str] = mapped_column(Text, default="")
    search_ru: Mapped[str] = mapped_column(Text, default="")
    search_en: Mapped[str] = mapped_column(Text, default="")
    #: JSON list of {"text", "url"}.
    sources_json: Mapped[str] = mapped_column(Text, default="[]")
    #: SHA-256 of the content files it was imported from (import is idempotent), else "".
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    article: Mapped[Article] = relationship(back_populates="versions", foreign_keys=[article_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])

    @property
    def sources(self) -> list[dict[str, str]]:
        return [dict(s) for s in json.loads(self.sources_json or "[]")]

    @property
    def audience_list(self) -> list[str]:
        return [a for a in self.audiences.split(",") if a]

    def has(self, language: str) -> bool:
        return bool(getattr(self, f"title_{language}", "") and getattr(self, f"body_{language}", ""))

    def text(self, field: str, language: str) -> str:
        return str(getattr(self, f"{field}_{language}", "") or "")

    def languages(self) -> list[str]:
        return [lang for lang in LANGUAGES if self.has(lang)]

    def shown_language(self, wanted: str) -> str:
        """The reader's language if this version has it, else the first fallback it has."""
        for lang in FALLBACK.get(wanted, LANGUAGES):
            if self.has(lang):
                return lang
        return wanted

    def fields(self) -> dict[str, Any]:
        """Every field an edit starts from (for a new version)."""
        names = ["audiences", "for_parents", "for_teachers", "for_pupils", "topic", "distress", "position",
                 "sources_json"]
        for lang in LANGUAGES:
            names += [f"title_{lang}", f"summary_{lang}", f"body_{lang}", f"translation_{lang}", f"search_{lang}"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        return f"<ArticleVersion {self.article_id}:{self.number}>"


class Recommendation(Model):
    """A published article a psychologist chose for the parents of one pupil (a whole class: one row per pupil)."""

    __tablename__ = "guidance_recommendations"
    __table_args__ = (UniqueConstraint("article_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("guidance_articles.id"), index=True)
    #: The pupil whose parents see it (an id only; which article was chosen for a child is not sensitive in
    #: itself, but is shown only to that child's parents and the school's staff).
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship()

    def __repr__(self) -> str:
        return f"<Recommendation {self.id}>"
