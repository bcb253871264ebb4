"""Reading the library: by audience and school, search (wildcards, Cyrillic case), language fallback and the
translation note, the help lines, old URLs, XSS inert, and "chosen for you" on the parent's child page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.guidance import services
from app.guidance.importer import import_content
from app.guidance.models import Article, Recommendation
from tests.factories import login, post
from tests.guidance.support import FIXTURES, draft, published


def _language(client, code: str) -> None:
    post(client, "/language", {"language": code, "next": "/"}, form_page="/")


def _slug(slug: str) -> Article:
    return db.session.execute(select(Article).where(Article.slug == slug)).scalar_one()


def test_parents_find_articles_by_words_of_their_language(world, client):
    import_content(FIXTURES)
    login(client, world.r1)
    _language(client, "ru")
    uuid = _slug("talking-at-home").uuid
    for query in ("разговаривать", "РАЗГОВАРИВАТЬ", "ребенком", "прогулка вместе", "торопитесь"):
        assert uuid in client.get("/guidance/parents", query_string={"q": query}).get_data(as_text=True), query
    for query in ("%", "_", "\\", "разговаривать зебра", "talking"):  # wildcards match nothing special
        assert uuid not in client.get("/guidance/parents", query_string={"q": query}).get_data(as_text=True), query
    assert uuid in client.get("/guidance/parents?topic=talking-with-a-teenager").get_data(as_text=True)
    assert uuid not in client.get("/guidance/parents?topic=grief").get_data(as_text=True)
    assert client.get("/guidance/parents?topic=nonsense").status_code == 200


def test_a_percent_sign_is_searched_literally(world, client):
    published(world.psy1, world.psy2, school=world.s1, titles={"ru": "Скидка 100% на сон"})
    published(world.psy1, world.psy2, school=world.s1, titles={"ru": "Сто процентов"})
    login(client, world.r1)
    _language(client, "ru")
    body = client.get("/guidance/parents", query_string={"q": "100%"}).get_data(as_text=True)
    assert "Скидка 100% на сон" in body and "Сто процентов" not in body


def test_audiences_and_schools_scope_what_readers_see(world, client):
    import_content(FIXTURES)
    mine = published(world.psy1, world.psy2, school=world.s1, titles={"ru": "Статья школы один"})
    theirs = services.create_article(actor=world.psy3, school=world.s2, data=draft(titles={"ru": "Статья школы два"}))
    login(client, world.r1)
    body = client.get("/guidance/parents").get_data(as_text=True)
    assert mine.uuid in body and theirs.uuid not in body and _slug("feeling-low").uuid not in body
    assert client.get(f"/guidance/parents/{_slug('feeling-low').uuid}").status_code == 404  # pupils' only
    assert client.get("/guidance/pupils").status_code == 403


def test_pupils_read_their_articles_with_the_help_lines(world, client):
    import_content(FIXTURES)
    login(client, world.pupil1)
    _language(client, "ru")
    me = client.get("/me").get_data(as_text=True)
    assert "/guidance/pupils" in me
    article = _slug("feeling-low")
    listing = client.get("/guidance/pupils").get_data(as_text=True)
    assert article.uuid in listing and _slug("talking-at-home").uuid not in listing
    assert 'href="tel:150"' in listing
    page = client.get(f"/guidance/pupils/{article.uuid}").get_data(as_text=True)
    assert "Если тебе грустно" in page and 'href="tel:111"' in page and "/help/ask" in page


def test_a_missing_language_falls_back_with_a_note_and_machine_text_is_marked(world, client):
    import_content(FIXTURES)
    article = _slug("feeling-low")
    login(client, world.pupil1)
    _language(client, "kk")
    page = client.get(f"/guidance/pupils/{article.uuid}").get_data(as_text=True)
    assert "Если тебе грустно" in page and 'lang="ru"' in page
    assert "is not yet available in your language" in page or "тіліңізде" in page or "қолжетімсіз" in page
    _language(client, "en")
    page = client.get(f"/guidance/pupils/{article.uuid}").get_data(as_text=True)
    assert "When you feel low" in page and "machine translation, not yet checked" in page
    assert "not yet available in your language" not in page


def test_article_page_has_sources_review_date_and_print(world, client):
    import_content(FIXTURES)
    login(client, world.r1)
    _language(client, "en")
    page = client.get(f"/guidance/parents/{_slug('talking-at-home').uuid}").get_data(as_text=True)
    assert "Helping Adolescents Thrive" in page and "https://www.who.int/publications/i/item/9789240011854" in page
    assert "Last reviewed:" in page and "data-print" in page and "print.js" in page
    # Not about distress: no extra help block on the page (the footer still has the lines).
    assert 'id="helplines"' not in page


def test_a_distress_article_for_parents_shows_the_help_directory(world, client):
    article = published(world.psy1, world.psy2, school=world.s1, distress=True)
    login(client, world.r1)
    page = client.get(f"/guidance/parents/{article.uuid}").get_data(as_text=True)
    assert 'id="helplines"' in page and 'href="tel:112"' in page


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_stored_xss_in_title_summary_body_and_sources_renders_inert(world, client):
    article = published(world.psy1, world.psy2, school=world.s1, titles={"ru": f"Заголовок {XSS}"},
                        summaries={"ru": f"Кратко {XSS}"},
                        bodies={"ru": f"Текст {XSS}\n\n[ссылка](javascript:alert(1)) <a href=\"javascript:x\">a</a>"},
                        sources=[{"text": f"Источник {XSS}", "url": "javascript:alert(1)"}])
    login(client, world.r1)
    _language(client, "ru")
    for path in (f"/guidance/parents/{article.uuid}", "/guidance/parents", "/guidance/parents?q=Заголовок"):
        body = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body and 'href="javascript' not in body, path
    staff = client.application.test_client()
    login(staff, world.psy1)
    for path in (f"/guidance/manage/{article.uuid}", "/guidance/manage", f"/guidance/manage/{article.uuid}/edit"):
        body = staff.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, path


def test_old_parent_urls_lead_to_the_library(world, client):
    import_content(FIXTURES)
    login(client, world.r1)
    assert client.get("/parents/guidance").headers["Location"].endswith("/guidance/parents")
    target = client.get("/parents/guidance/talking-at-home").headers["Location"]
    assert target.endswith(f"/guidance/parents/{_slug('talking-at-home').uuid}")
    assert client.get("/parents/guidance/exam-stress").headers["Location"].endswith("/guidance/parents")
    assert client.get("/guidance").headers["Location"].endswith("/guidance/parents")


def test_chosen_for_you_reaches_only_that_childs_parents(world, client):
    article = published(world.psy1, world.psy2, school=world.s1, titles={"ru": "Выбрано для вас"})
    psy = client.application.test_client()
    login(psy, world.psy1)
    page = f"/guidance/recommend/{article.uuid}"
    assert psy.get(page).status_code == 200
    response = post(psy, page, {"class_id": str(world.c7a.id), "pupil_id": "0"})
    assert response.status_code == 302
    rows = db.session.execute(select(Recommendation)).scalars().all()
    assert [r.pupil_id for r in rows] == [world.p1.id]
    assert db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.GUIDANCE_RECOMMENDED.value)).scalar_one().pupil_id == world.p1.id
    # Another school's class or a pupil of another class: nothing changes.
    other_class = world.p3.class_id
    assert post(psy, page, {"class_id": str(other_class), "pupil_id": "0"}).status_code in (400, 404)
    assert post(psy, page, {"class_id": str(world.c7a.id), "pupil_id": str(world.p2.id)}).status_code == 400
    assert len(db.session.execute(select(Recommendation)).scalars().all()) == 1
    login(client, world.r1)
    _language(client, "ru")
    child = client.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Выбрано для вас" in child and f"/guidance/parents/{article.uuid}" in child
    assert services.chosen_for(world.p2, language="ru") == []


@pytest.mark.parametrize("who", ["psy3", "soc1", "r1", "t7a"])
def test_only_the_schools_psychologist_chooses_for_parents(world, client, who):
    article = published(world.psy1, world.psy2, school=world.s1)
    login(client, getattr(world, who))
    assert client.get(f"/guidance/recommend/{article.uuid}").status_code == (404 if who == "psy3" else 403)


def test_topics_with_articles_are_links(world, client):
    published(world.psy1, world.psy2, school=world.s1, topic="grief", titles={"ru": "Про утрату"})
    login(client, world.r1)
    _language(client, "en")
    body = client.get("/guidance/parents").get_data(as_text=True)
    assert "/guidance/parents?topic=grief" in body and "Grief and loss" in body
    assert "topic=exam-stress" not in body
