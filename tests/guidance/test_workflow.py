"""Writing, reviewing and publishing: versions, the reviewer, optimistic locking, scoping and audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEntry, Outcome
from app.extensions import db
from app.guidance import services
from app.guidance.models import Article, ArticleVersion, Status
from app.monitoring.conflicts import EditConflict
from tests.factories import login, post
from tests.guidance.support import draft, published


def _actions(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == action.value)).scalars())


def test_a_draft_is_reviewed_and_published_by_another_psychologist(world):
    article = services.create_article(actor=world.psy1, school=world.s1, data=draft())
    assert article.status == Status.DRAFT.value and article.published_number is None
    services.submit(actor=world.psy1, article=article, version=article.version)
    with pytest.raises(services.GuidanceError):
        services.publish(actor=world.psy1, article=article, version=article.version)  # not one's own
    services.publish(actor=world.psy2, article=article, version=article.version)
    assert article.status == Status.PUBLISHED.value and article.published_number == 1
    assert article.published.reviewer_id == world.psy2.id and article.published.reviewed_at is not None
    assert [e.actor_id for e in _actions(AuditAction.GUIDANCE_PUBLISHED)] == [world.psy2.id]
    assert [e.school_id for e in _actions(AuditAction.GUIDANCE_CREATED)] == [world.s1.id]


def test_readers_keep_the_published_version_while_a_new_draft_is_edited(world, client):
    article = published(world.psy1, world.psy2, school=world.s1)
    services.save_version(actor=world.psy1, article=article, version=article.version,
                          data=draft(titles={"ru": "Новый черновик"}))
    assert [v.number for v in article.versions] == [1, 2]
    assert article.status == Status.DRAFT.value and article.published_number == 1
    assert [e.details for e in _actions(AuditAction.GUIDANCE_EDITED)] == ['{"number": 2}']
    login(client, world.r1)
    post(client, "/language", {"language": "ru", "next": "/"}, form_page="/")
    body = client.get(f"/guidance/parents/{article.uuid}").get_data(as_text=True)
    assert "Экзамены без паники" in body and "Новый черновик" not in body


def test_a_stale_version_is_refused_and_audited(world):
    article = services.create_article(actor=world.psy1, school=world.s1, data=draft())
    stale = article.version
    services.save_version(actor=world.psy2, article=article, version=stale, data=draft(titles={"ru": "Первая"}))
    with pytest.raises(EditConflict):
        services.save_version(actor=world.psy1, article=article, version=stale, data=draft(titles={"ru": "Вторая"}))
    assert db.session.execute(select(func.count()).select_from(ArticleVersion)).scalar() == 2
    assert [e.outcome for e in _actions(AuditAction.EDIT_CONFLICT)] == [Outcome.FAILED.value]


def test_the_edit_page_shows_the_conflict_page_and_keeps_the_text(world, client):
    article = services.create_article(actor=world.psy1, school=world.s1, data=draft())
    login(client, world.psy1)
    path = f"/guidance/manage/{article.uuid}/edit"
    page = client.get(path)
    assert page.status_code == 200
    services.save_version(actor=world.psy2, article=article, version=article.version,
                          data=draft(titles={"ru": "Чужая правка"}))
    response = post(client, path, {"topic": "exam-stress", "audiences": "parents", "position": "100",
                                   "title_ru": "Моя правка", "body_ru": "Текст", "translation_kk": "written",
                                   "translation_ru": "written", "translation_en": "written", "version": "1"},
                    form_page=path)
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "Моя правка" in body and "Чужая правка" in body
    assert len(db.session.get(Article, article.id).versions) == 2


def test_archived_articles_disappear_for_readers_and_can_be_restored(world, client):
    article = published(world.psy1, world.psy2, school=world.s1)
    services.archive(actor=world.psy1, article=article, version=article.version)
    login(client, world.r1)
    assert client.get(f"/guidance/parents/{article.uuid}").status_code == 404
    services.restore(actor=world.psy1, article=article, version=article.version)
    assert article.status == Status.DRAFT.value
    assert len(_actions(AuditAction.GUIDANCE_ARCHIVED)) == len(_actions(AuditAction.GUIDANCE_RESTORED)) == 1


def test_the_whole_walk_through_the_pages(world, client):
    login(client, world.psy1)
    response = post(client, "/guidance/manage/new", {
        "owner": str(world.s1.id), "topic": "bullying", "audiences": ["parents", "pupils"], "position": "5",
        "distress": "y", "title_ru": "Травля в чате", "summary_ru": "Что делать.", "body_ru": "Сохраните скриншоты.",
        "translation_kk": "written", "translation_ru": "written", "translation_en": "written",
        "sources": "UNICEF. Cyberbullying. | https://www.unicef.org/\njavascript source | javascript:alert(1)"})
    assert response.status_code == 302
    article = db.session.execute(select(Article)).scalar_one()
    assert article.school_id == world.s1.id and article.latest.audience_list == ["parents", "pupils"]
    assert article.latest.sources == [{"text": "UNICEF. Cyberbullying.", "url": "https://www.unicef.org/"},
                                      {"text": "javascript source", "url": ""}]
    page = f"/guidance/manage/{article.uuid}"
    assert post(client, f"{page}/submit", {"version": str(article.version)}, form_page=page).status_code == 302
    db.session.expire_all()
    assert article.status == Status.REVIEW.value
    # The author cannot publish (no button, and the service refuses).
    assert "/review/" not in client.get(page).get_data(as_text=True)
    post(client, f"/guidance/review/{article.uuid}/publish", {"version": str(article.version)}, form_page=page)
    db.session.expire_all()
    assert article.status == Status.REVIEW.value
    other = client.application.test_client()
    login(other, world.psy2)
    assert f"/guidance/review/{article.uuid}/publish" in other.get(page).get_data(as_text=True)
    response = post(other, f"/guidance/review/{article.uuid}/publish", {"version": str(article.version)},
                    form_page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert article.status == Status.PUBLISHED.value and article.published.reviewer_id == world.psy2.id
    history = other.get(f"{page}/versions").get_data(as_text=True)
    assert world.psy1.display_name in history and world.psy2.display_name in history


def test_another_schools_psychologist_gets_an_audited_404(world, client):
    article = services.create_article(actor=world.psy1, school=world.s1, data=draft())
    login(client, world.psy3)
    before = len(_actions(AuditAction.ACCESS_DENIED))
    for path in (f"/guidance/manage/{article.uuid}", f"/guidance/manage/{article.uuid}/edit",
                 f"/guidance/manage/{article.uuid}/versions"):
        assert client.get(path).status_code == 404
    response = post(client, f"/guidance/manage/{article.uuid}/archive", {"version": "1"}, form_page="/guidance/manage")
    assert response.status_code == 404
    denied = _actions(AuditAction.ACCESS_DENIED)[before:]
    assert len(denied) == 4 and {e.school_id for e in denied} == {world.s1.id}
    assert db.session.get(Article, article.id).status == Status.DRAFT.value


def test_national_articles_are_kept_by_admins_only(world, client):
    login(client, world.admin)
    response = post(client, "/guidance/manage/new", {
        "owner": "0", "topic": "grief", "audiences": "teachers", "position": "1", "title_en": "Grief at school",
        "body_en": "Be there.", "translation_kk": "written", "translation_ru": "written", "translation_en": "written"})
    assert response.status_code == 302
    article = db.session.execute(select(Article)).scalar_one()
    assert article.school_id is None
    client = client.application.test_client()
    login(client, world.psy1)
    assert client.get(f"/guidance/manage/{article.uuid}").status_code == 404
    # A psychologist cannot make a national article by posting owner=0.
    response = post(client, "/guidance/manage/new", {
        "owner": "0", "topic": "grief", "audiences": "teachers", "position": "1", "title_en": "Mine",
        "body_en": "x", "translation_kk": "written", "translation_ru": "written", "translation_en": "written"})
    assert response.status_code == 400
    assert db.session.execute(select(func.count()).select_from(Article)).scalar() == 1


@pytest.mark.parametrize("bad", [
    {"topic": "weather"}, {"audiences": ""}, {"audiences": "aliens"}, {"title_ru": "", "body_ru": ""},
    {"position": "-1"}, {"title_ru": "x" * 201}, {"version": "abc"},
])
def test_bad_input_changes_nothing(world, client, bad):
    article = services.create_article(actor=world.psy1, school=world.s1, data=draft())
    login(client, world.psy1)
    path = f"/guidance/manage/{article.uuid}/edit"
    data = {"topic": "exam-stress", "audiences": "parents", "position": "100", "title_ru": "Заголовок",
            "body_ru": "Текст", "translation_kk": "written", "translation_ru": "written", "translation_en": "written",
            "version": str(article.version), **bad}
    response = post(client, path, data, form_page=path)
    assert response.status_code in (400, 409)
    db.session.expire_all()
    assert len(db.session.get(Article, article.id).versions) == 1
    assert _actions(AuditAction.GUIDANCE_EDITED) == []


def test_a_parent_cannot_see_a_draft_or_an_article_in_review(world, client):
    article = services.create_article(actor=world.psy1, school=world.s1, data=draft())
    login(client, world.r1)
    assert client.get(f"/guidance/parents/{article.uuid}").status_code == 404
    services.submit(actor=world.psy1, article=article, version=article.version)
    assert client.get(f"/guidance/parents/{article.uuid}").status_code == 404
    assert "без паники" not in client.get("/guidance/parents?q=Экзамены").get_data(as_text=True)
    assert client.get(f"/guidance/manage/{article.uuid}").status_code == 403


def test_each_step_writes_exactly_its_audit_entry(world):
    article = services.create_article(actor=world.psy1, school=world.s1, data=draft())
    services.save_version(actor=world.psy1, article=article, version=article.version, data=draft(position=5))
    services.submit(actor=world.psy1, article=article, version=article.version)
    services.send_back(actor=world.psy2, article=article, version=article.version)
    services.submit(actor=world.psy1, article=article, version=article.version)
    services.publish(actor=world.psy2, article=article, version=article.version)
    services.archive(actor=world.psy1, article=article, version=article.version)
    services.restore(actor=world.psy1, article=article, version=article.version)
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.object_id == article.uuid)
                                 .order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.actor_id) for e in entries] == [
        (AuditAction.GUIDANCE_CREATED.value, world.psy1.id), (AuditAction.GUIDANCE_EDITED.value, world.psy1.id),
        (AuditAction.GUIDANCE_SUBMITTED.value, world.psy1.id), (AuditAction.GUIDANCE_RETURNED.value, world.psy2.id),
        (AuditAction.GUIDANCE_SUBMITTED.value, world.psy1.id), (AuditAction.GUIDANCE_PUBLISHED.value, world.psy2.id),
        (AuditAction.GUIDANCE_ARCHIVED.value, world.psy1.id), (AuditAction.GUIDANCE_RESTORED.value, world.psy1.id)]
    assert {e.school_id for e in entries} == {world.s1.id}
    with pytest.raises(services.GuidanceError):
        services.publish(actor=world.psy2, article=article, version=article.version)  # a draft, not in review
