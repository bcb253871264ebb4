"""Role × endpoint matrix of the guidance library: readers by audience, writers and reviewers by role."""

from __future__ import annotations

import pytest

from app.auth.permissions import Permission, endpoint_permission, has_permission
from tests.factories import login
from tests.guidance.support import published

P = Permission
#: endpoint -> (path, permission).
ROUTES = {
    "guidance.library": ("/guidance", P.GUIDANCE_READ),
    "guidance.parents": ("/guidance/parents", P.GUIDANCE_READ),
    "guidance.staff": ("/guidance/staff", P.GUIDANCE_STAFF_READ),
    "guidance.pupils": ("/guidance/pupils", P.GUIDANCE_PUPIL_READ),
    "guidance.parents_article": ("/guidance/parents/{uuid}", P.GUIDANCE_READ),
    "guidance.staff_article": ("/guidance/staff/{uuid}", P.GUIDANCE_STAFF_READ),
    "guidance.pupils_article": ("/guidance/pupils/{uuid}", P.GUIDANCE_PUPIL_READ),
    "guidance.old_list": ("/parents/guidance", P.GUIDANCE_READ),
    "guidance.old_article": ("/parents/guidance/exam-stress", P.GUIDANCE_READ),
    "guidance.manage": ("/guidance/manage", P.GUIDANCE_WRITE),
    "guidance.new": ("/guidance/manage/new", P.GUIDANCE_WRITE),
    "guidance.article_admin": ("/guidance/manage/{uuid}", P.GUIDANCE_WRITE),
    "guidance.edit": ("/guidance/manage/{uuid}/edit", P.GUIDANCE_WRITE),
    "guidance.history": ("/guidance/manage/{uuid}/versions", P.GUIDANCE_WRITE),
    "guidance.version_view": ("/guidance/manage/{uuid}/versions/1", P.GUIDANCE_WRITE),
    "guidance.step": ("/guidance/manage/{uuid}/archive", P.GUIDANCE_WRITE),
    "guidance.review": ("/guidance/review/{uuid}/publish", P.GUIDANCE_REVIEW),
    "guidance.recommend": ("/guidance/recommend/{uuid}", P.GUIDANCE_RECOMMEND),
}
POST_ONLY = {"guidance.step", "guidance.review"}
REDIRECTS = {"guidance.old_list", "guidance.old_article"}
ROLES = ["admin", "a1", "psy1", "psy3", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]
#: GET status per role for the pages of one school-1 article for parents, teachers and pupils.
EXPECTED = {
    # role: endpoints answering 200 (others: 403 without the permission, 404 out of scope)
    "admin": {"library", "parents", "staff", "pupils", "parents_article", "staff_article", "pupils_article",
              "manage", "new"},
    "a1": {"library", "parents", "staff", "pupils", "parents_article", "staff_article", "pupils_article"},
    "psy1": {"library", "parents", "staff", "pupils", "parents_article", "staff_article", "pupils_article", "manage",
             "new", "article_admin", "edit", "history", "version_view", "recommend"},
    "psy3": {"library", "parents", "staff", "pupils", "manage", "new"},
    "soc1": {"library", "parents", "staff", "pupils", "parents_article", "staff_article", "pupils_article"},
    "t7a": {"library", "parents", "staff", "pupils", "parents_article", "staff_article", "pupils_article"},
    "r1": {"parents", "parents_article"},
    "pupil1": {"pupils", "pupils_article"},
    "d1": set(), "reg1": set(), "norole": set(),
}


def test_every_guidance_endpoint_is_in_the_matrix(app):
    endpoints = {name for name in app.view_functions if name.startswith("guidance.")}
    assert endpoints == set(ROUTES)
    for name, (_path, permission) in ROUTES.items():
        assert endpoint_permission(app.view_functions[name]) is permission, name


@pytest.mark.parametrize("role", [None, *ROLES])
def test_roles_get_what_their_permission_and_school_allow(client, world, role):
    article = published(world.psy1, world.psy2, school=world.s1, audiences=["parents", "teachers", "pupils"])
    user = getattr(world, role) if role else None
    if user is not None:
        login(client, user)
    for endpoint, (template, permission) in ROUTES.items():
        if endpoint in POST_ONLY:
            continue
        response = client.get(template.format(uuid=article.uuid))
        short = endpoint.split(".")[1]
        where = (role, endpoint, response.status_code)
        if user is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"], where
        elif short in EXPECTED[role]:
            assert response.status_code == 200, where
        elif (endpoint in REDIRECTS or short == "library") and has_permission(user, permission):
            assert response.status_code == 302, where
        else:
            assert response.status_code == (404 if has_permission(user, permission) else 403), where


@pytest.mark.parametrize("role", ["admin", "a1", "soc1", "t7a", "r1", "pupil1", "d1"])
def test_workflow_posts_are_refused_without_the_permission_or_scope(client, world, role):
    from tests.factories import post

    article = published(world.psy1, world.psy2, school=world.s1)
    login(client, getattr(world, role))
    for path in (f"/guidance/manage/{article.uuid}/archive", f"/guidance/review/{article.uuid}/return"):
        response = post(client, path, {"version": str(article.version)}, form_page="/")
        assert response.status_code in (403, 404), (role, path)
    from app.extensions import db
    from app.guidance.models import Article

    db.session.expire_all()
    assert db.session.get(Article, article.id).status == "published"
