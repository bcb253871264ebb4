"""A12 fail closed, and the role × endpoint matrix derived from ROLE_PERMISSIONS (A1/A2 404 vs 403, G43 headers)."""

from __future__ import annotations

import uuid

from flask import Flask

from app.auth.permissions import PUBLIC_ENDPOINTS, user_permissions, visible_pupils
from app.core.audit import AuditAction, Outcome
from app.extensions import db
from tests.security.helpers import (
    CONDITIONAL_PUPIL_ROUTES,
    FLOW_ENDPOINTS,
    REVIEWED_PUBLIC_ENDPOINTS,
    audit_count,
    guarded_get_routes,
    header_problems,
    inline_code_problems,
    location_path,
    path_for,
    route_query,
    signed_in,
    unguarded_endpoints,
    without_tokens,
)

# --- A12: every endpoint is guarded ------------------------------------------------------------------


def test_every_endpoint_is_public_or_guarded(app: Flask) -> None:
    assert unguarded_endpoints(app) == [], "endpoints without @require and not in PUBLIC_ENDPOINTS"


def test_public_endpoints_are_the_reviewed_ones(app: Flask) -> None:
    assert PUBLIC_ENDPOINTS <= REVIEWED_PUBLIC_ENDPOINTS, (
        f"new public endpoint(s) {sorted(PUBLIC_ENDPOINTS - REVIEWED_PUBLIC_ENDPOINTS)}: review them and add "
        "them to tests/security/helpers.py REVIEWED_PUBLIC_ENDPOINTS"
    )
    assert set(app.view_functions) >= PUBLIC_ENDPOINTS, "a public endpoint name that no route has"


def test_an_unguarded_route_is_named_by_the_checker(make_app) -> None:
    throwaway = make_app()
    throwaway.add_url_rule("/debug/dump", "debug_dump", lambda: "everything")
    assert unguarded_endpoints(throwaway) == ["debug_dump"]


# --- the matrix: GET routes without parameters -------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_on_every_guarded_page(app: Flask, world) -> None:
    client = app.test_client()
    for route in guarded_get_routes(app):
        response = client.get(route.path)
        assert response.status_code == 302, route.endpoint
        assert location_path(response) == "/login", route.endpoint


def test_role_matrix_for_every_get_route(app: Flask, world) -> None:
    """Each role: 200 with the permission, 403 (audited as denied) without it; every page well-formed."""
    routes = guarded_get_routes(app)
    assert len(routes) >= 8, "the route walk found too few routes"
    for name, user in _one_user_per_role(world).items():
        held = user_permissions(user)
        client = signed_in(app, user)
        for route in routes:
            before = _denied_count()
            response = client.get(route.path)
            where = f"{name} GET {route.path} ({route.permission})"
            if route.permission not in held:
                assert response.status_code == 403, where
                assert _denied_count() == before + 1, f"{where}: 403 not audited once"
            elif route.endpoint in FLOW_ENDPOINTS:
                assert response.status_code in (200, 302), where
                assert location_path(response) != "/login", f"{where}: signed out"
            else:
                assert response.status_code == 200, where
            if response.mimetype == "text/html":
                assert header_problems(response, authenticated=True) == [], where
                assert inline_code_problems(response.get_data(as_text=True)) == [], where


def _one_user_per_role(world) -> dict[str, object]:
    """The first world user of each role (and the user without a role): status depends on the role only."""
    chosen: dict[tuple[str, ...], tuple[str, object]] = {}
    for name, user in world.users.items():
        chosen.setdefault(tuple(sorted(str(r) for r in user.roles)), (name, user))
    return dict(chosen.values())


def test_public_pages_are_well_formed(app: Flask, world) -> None:
    client = app.test_client()
    response = client.get("/login")
    assert response.status_code == 200
    assert header_problems(response, authenticated=False) == []
    assert inline_code_problems(response.get_data(as_text=True)) == []
    assert client.get("/healthz").status_code == 200


def _denied_count() -> int:
    return audit_count(action=str(AuditAction.ACCESS_DENIED), outcome=str(Outcome.DENIED))


# --- the matrix: routes with a <pupil_uuid> -------------------------------------------------------------


def test_pupil_routes_in_scope_out_of_scope_and_without_permission(app: Flask, world) -> None:
    """In scope 200; out of scope 404 exactly like a random id's 404; no permission 403 for every id."""
    routes = guarded_get_routes(app, arguments=frozenset({"pupil_uuid"}))
    assert routes, "no route with a <pupil_uuid> parameter found"
    pupils = [world.p1, world.p2, world.p3]
    random_id = str(uuid.uuid4())
    for name, user in world.users.items():
        held = user_permissions(user)
        client = signed_in(app, user)
        for route in routes:
            query = route_query(route.endpoint)
            random_response = client.get(path_for(route, pupil_uuid=random_id), query_string=query)
            random_body = without_tokens(random_response.get_data(as_text=True), random_id)
            if route.permission not in held:
                assert random_response.status_code == 403, f"{name} {route.path}"
                for pupil in pupils:
                    response = client.get(path_for(route, pupil_uuid=pupil.uuid), query_string=query)
                    assert response.status_code == 403, f"{name} {route.path} {pupil!r}"
                    assert without_tokens(response.get_data(as_text=True), pupil.uuid) == random_body
                continue
            assert random_response.status_code == 404, f"{name} {route.path} random id"
            in_scope = {p.id for p in db.session.execute(visible_pupils(user, route.permission)).scalars()}
            for pupil in pupils:
                where = f"{name} {route.path} {pupil!r}"
                response = client.get(path_for(route, pupil_uuid=pupil.uuid), query_string=query)
                if pupil.id in in_scope and route.endpoint in CONDITIONAL_PUPIL_ROUTES and response.status_code == 302:
                    assert location_path(response) not in ("/login", "/mfa"), where
                    client.get(response.headers["Location"])  # shows (and so clears) its flash message
                elif pupil.id in in_scope:
                    assert response.status_code == 200, where
                    assert inline_code_problems(response.get_data(as_text=True)) == [], where
                    assert header_problems(response, authenticated=True) == [], where
                else:
                    assert response.status_code == 404, where
                    body = without_tokens(response.get_data(as_text=True), pupil.uuid)
                    assert body == random_body, f"{where}: the 404 differs from a random id's 404"
