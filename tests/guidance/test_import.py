"""``flask guidance import-content``: content folders become national published articles, idempotently."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.guidance.importer import CONTENT_DIR, import_content
from app.guidance.models import Article, ArticleVersion, Status
from tests.guidance.support import FIXTURES


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_import_loads_national_published_articles_once(app_ctx):
    report = import_content(FIXTURES)
    assert sorted(report.created) == ["feeling-low", "talking-at-home"] and report.errors == []
    article = db.session.execute(select(Article).where(Article.slug == "talking-at-home")).scalar_one()
    assert article.school_id is None and article.status == Status.PUBLISHED.value and article.published_number == 1
    version = article.published
    assert version.audience_list == ["parents", "teachers"] and version.topic == "talking-with-a-teenager"
    assert version.title_kk == "Үйде қалай сөйлесуге болады" and "## Что помогает" in version.body_ru
    assert version.sources[0]["url"].startswith("https://www.who.int/") and version.reviewed_at is not None
    low = db.session.execute(select(Article).where(Article.slug == "feeling-low")).scalar_one().published
    assert (low.translation_kk, low.translation_ru, low.translation_en) == ("", "written", "machine")
    assert low.distress and low.for_pupils and not low.for_parents
    versions, entries = _count(ArticleVersion), _count(AuditEntry)
    again = import_content(FIXTURES)
    assert again.created == again.updated == [] and sorted(again.unchanged) == ["feeling-low", "talking-at-home"]
    assert _count(ArticleVersion) == versions and _count(AuditEntry) == entries


def test_a_changed_file_becomes_a_new_published_version(app_ctx, tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "content")
    import_content(tmp_path / "content")
    en = tmp_path / "content" / "talking-at-home" / "en.md"
    en.write_text(en.read_text(encoding="utf-8").replace("Talking at home", "Talking at home, again"),
                  encoding="utf-8")
    report = import_content(tmp_path / "content")
    assert report.updated == ["talking-at-home"] and report.unchanged == ["feeling-low"]
    article = db.session.execute(select(Article).where(Article.slug == "talking-at-home")).scalar_one()
    assert article.published_number == 2 and article.published.title_en == "Talking at home, again"
    imported = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.GUIDANCE_IMPORTED.value)).scalars().all()
    assert len(imported) == 3


def test_an_empty_or_missing_directory_is_fine(app_ctx, tmp_path):
    assert import_content(tmp_path).summary().startswith("guidance import-content: 0 new")
    assert import_content(tmp_path / "missing").errors == []
    assert _count(Article) == 0


def test_a_broken_folder_is_named_and_the_others_load(app_ctx, tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "content")
    broken = tmp_path / "content" / "broken"
    broken.mkdir()
    (broken / "meta.yaml").write_text("audience: [parents]\ntopic: weather\n", encoding="utf-8")
    (broken / "ru.md").write_text("---\ntitle: x\n---\ntext", encoding="utf-8")
    nofront = tmp_path / "content" / "nofront"
    nofront.mkdir()
    (nofront / "meta.yaml").write_text("audience: [parents]\ntopic: grief\n", encoding="utf-8")
    (nofront / "ru.md").write_text("no front matter", encoding="utf-8")
    report = import_content(tmp_path / "content")
    assert [slug for slug, _error in report.errors] == ["broken", "nofront"]
    assert sorted(report.created) == ["feeling-low", "talking-at-home"]


def test_raw_html_in_a_content_file_is_cleaned(app_ctx, tmp_path):
    shutil.copytree(FIXTURES / "feeling-low", tmp_path / "content" / "x")
    (tmp_path / "content" / "x" / "ru.md").write_text(
        "---\ntitle: <script>alert(1)</script>Заголовок\n---\nТекст <img src=x onerror=alert(1)>", encoding="utf-8")
    import_content(tmp_path / "content")
    version = db.session.execute(select(ArticleVersion)).scalar_one()
    assert "<" not in version.title_ru and "<img" not in version.body_ru and "Заголовок" in version.title_ru


def test_the_command_and_demo_create_import_the_shipped_content(app, app_ctx, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["guidance", "import-content", str(FIXTURES)])
    assert result.exit_code == 0 and "2 new" in result.output
    result = runner.invoke(args=["guidance", "import-content", str(FIXTURES)])
    assert "0 new, 0 updated, 2 unchanged" in result.output
    (tmp_path / "bad").mkdir()
    result = runner.invoke(args=["guidance", "import-content", str(tmp_path)])
    assert result.exit_code == 1 and "no meta.yaml" in result.output
    from app.core import demo

    assert "guidance" in demo.AFTER_CREATE
    shipped = sum(1 for p in CONTENT_DIR.iterdir() if p.is_dir()) if CONTENT_DIR.is_dir() else 0
    assert demo.AFTER_CREATE["guidance"]().startswith("guidance import-content:")
    assert _count(Article) == 2 + shipped


def test_the_shipped_content_loads_and_distress_texts_end_with_help(app_ctx):
    """Every folder of app/guidance/content loads; a text about distress names 150, 111 and 112 in each language."""
    report = import_content(CONTENT_DIR)
    assert report.errors == []
    for article in db.session.execute(select(Article)).scalars():
        version = article.published
        for lang in version.languages():
            assert version.sources, article.slug
            if version.distress:
                body = version.text("body", lang)
                assert all(number in body for number in ("150", "111", "112")), (article.slug, lang)
