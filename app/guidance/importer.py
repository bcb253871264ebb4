"""Load the repository's content files (``app/guidance/content/<slug>/``) as national, published articles.

A folder holds ``meta.yaml`` (language-independent) and ``kk.md``, ``ru.md``, ``en.md`` (any may be missing)::

    audience: [parents, teachers]     # any of parents, teachers, pupils
    topic: signs-of-distress          # a Topic value (app.guidance.models)
    distress: true                    # the page shows the help directory
    order: 10                         # position in lists
    sources:
      - text: "World Health Organization. Mental health of adolescents. Fact sheet, 2024."
        url: https://www.who.int/...
    translation: {kk: written, ru: written, en: machine}   # written | reviewed | machine

Each ``<lang>.md`` starts with front matter (``title``, ``summary`` between ``---`` lines), then the Markdown body
(no raw HTML, no images: both are removed).

Idempotent: a folder whose files did not change since the last import changes nothing; a changed folder
becomes a new published version of its article (the history shows it as loaded from the content files). A
folder with an error is named and skipped; the others are loaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select

from app.core import audit
from app.core.audit import AuditAction
from app.core.content_files import ContentError, split_front_matter
from app.core.models import utcnow
from app.extensions import db
from app.guidance.models import LANGUAGES, Article, Audience, Status, Topic, Translation
from app.guidance.services import Draft, GuidanceError, _add_version, _touch, _version_fields

#: Where the starter articles live.
CONTENT_DIR = Path(__file__).resolve().parent / "content"


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"guidance import-content: {len(self.created)} new, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {len(self.errors)} with errors")


def _files(folder: Path) -> dict[str, bytes]:
    names = ["meta.yaml", *(f"{lang}.md" for lang in LANGUAGES)]
    return {name: (folder / name).read_bytes() for name in names if (folder / name).is_file()}


def read_folder(folder: Path) -> tuple[Draft, str]:
    """The article of one content folder and the hash of its files; ContentError when it is not valid."""
    files = _files(folder)
    if "meta.yaml" not in files:
        raise ContentError(f"{folder.name}: no meta.yaml")
    try:
        meta = yaml.safe_load(files["meta.yaml"].decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ContentError(f"{folder.name}/meta.yaml: {error}") from None
    if not isinstance(meta, dict):
        raise ContentError(f"{folder.name}/meta.yaml: must be a mapping")
    audience = meta.get("audience") or []
    audience = [audience] if isinstance(audience, str) else list(audience)
    translation = meta.get("translation") or {}
    if not isinstance(translation, dict):
        raise ContentError(f"{folder.name}/meta.yaml: translation must be a mapping")
    for lang, status in translation.items():
        if status not in {t.value for t in Translation}:
            raise ContentError(f"{folder.name}/meta.yaml: translation of {lang} is '{status}'")
    sources = []
    for source in meta.get("sources") or []:
        if isinstance(source, str):
            source = {"text": source}
        if not isinstance(source, dict) or not source.get("text"):
            raise ContentError(f"{folder.name}/meta.yaml: every source needs a text")
        sources.append({"text": str(source["text"]), "url": str(source.get("url") or "")})
    draft = Draft(topic=str(meta.get("topic") or ""), audiences=[str(a) for a in audience],
                  distress=bool(meta.get("distress")), position=int(meta.get("order") or 100),
                  translations={str(k): str(v) for k, v in translation.items()}, sources=sources)
    for lang in LANGUAGES:
        raw = files.get(f"{lang}.md")
        if raw is None:
            continue
        where = f"{folder.name}/{lang}.md"
        try:
            front, body = split_front_matter(raw.decode("utf-8"), where)
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise ContentError(f"{where}: {error}") from None
        draft.titles[lang] = str(front.get("title") or "")
        draft.summaries[lang] = str(front.get("summary") or "")
        draft.bodies[lang] = body
    # Plain English for the terminal (the service's own messages are translated for the web pages).
    if draft.topic not in {t.value for t in Topic}:
        raise ContentError(f"{folder.name}/meta.yaml: unknown topic '{draft.topic}'")
    if not draft.audiences or not set(draft.audiences) <= {a.value for a in Audience}:
        raise ContentError(f"{folder.name}/meta.yaml: audience must be some of parents, teachers, pupils")
    try:
        draft.validate()
    except GuidanceError:
        raise ContentError(f"{folder.name}: no language has both a title and a text") from None
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return draft, digest.hexdigest()


def import_content(directory: Path | None = None) -> ImportReport:
    """Load every content folder of ``directory`` (default: the shipped one) as a national published article."""
    directory = directory or CONTENT_DIR
    report = ImportReport()
    folders = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
        if directory.is_dir() else []
    for folder in folders:
        slug = folder.name[:80]
        try:
            draft, digest = read_folder(folder)
        except ContentError as error:
            report.errors.append((slug, str(error)))
            continue
        article = db.session.execute(select(Article).where(Article.slug == slug)).scalar_one_or_none()
        if article is not None and article.school_id is not None:
            report.errors.append((slug, f"{slug}: a school's article already uses this name"))
            continue
        # Compared with the last version loaded from files: an edit made on the web since then is kept until
        # the files themselves change.
        loaded = next((v for v in reversed(article.versions) if v.content_hash), None) if article else None
        if loaded is not None and loaded.content_hash == digest:
            report.unchanged.append(slug)
            continue
        if article is None:
            article = Article(slug=slug, school_id=None)
            db.session.add(article)
            report.created.append(slug)
        else:
            report.updated.append(slug)
        version = _add_version(article, actor=None, values=_version_fields(draft), content_hash=digest)
        version.reviewed_at = utcnow()
        article.status, article.published_number = Status.PUBLISHED.value, version.number
        _touch(article, None)
        db.session.flush()
        audit.record(None, AuditAction.GUIDANCE_IMPORTED, object_type="guidance_article", object_id=article.uuid,
                     details={"slug": slug, "number": version.number})
    db.session.commit()
    return report
