"""The local Kundelik: the documented OAuth2 flow and REST endpoints (kundelik-api.md §1.2–1.6, §5.4).

* ``GET /oauth2``: the consent page (sign in as a demo person, then allow or deny). Allow redirects to the
  registered ``redirect_uri`` with ``?code&state&result=success&is_granted=True``; deny with
  ``?error=access_denied&state&result=success&is_granted=False``. A ``code_challenge`` (PKCE, S256) is honoured
  when sent, and required when the server is started with ``pkce_required``.
* ``POST /v2.0/authorizations`` (also ``/v2/``): JSON body ``{code, client_id, client_secret,
  grant_type: "AuthorizationCode"}`` or ``{grant_type: "RefreshToken", RefreshToken}`` with Basic client
  authentication; answers ``{accessToken, expiresIn, expiresIn_str, refreshToken, scope, user, user_str}``.
  A wrong client gets 403 ``{"type": "invalid_client", ...}``; a wrong, used or expired code or refresh token
  gets 401 ``{"error": "invalid_request", ...}``.
* ``/v2/...`` (also ``/v2.0/``): the roster endpoints, with the token in the ``Access-Token`` header (or
  ``Authorization: Bearer``; never a query parameter). An unknown or expired token gets 401
  ``{"type": "authorizationFailed"}``, a malformed or unknown id 400 ``{"type": "parameterInvalid"}``, and
  :attr:`LocalKundelik.maintenance` makes every call answer 503 with Kundelik's HTML maintenance page
  (:attr:`LocalKundelik.unavailable_schools`: only the calls about those schools).

Data lives in memory (:mod:`kundelik_local.data`); nothing is written to disk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from app.core.demo_people import SCHOOL_YEAR
from kundelik_local import shapes
from kundelik_local.data import PASSWORD, Person, World, demo_world

SCOPES = ("CommonInfo", "ContactInfo", "EducationalInfo", "FriendsAndRelatives")
CODE_LIFETIME = 600
MAINTENANCE_PAGE = ('<!DOCTYPE html><html><head><title>Kundelik</title></head><body>'
                    '<div class="error__description">Технические работы. Попробуйте позже.</div></body></html>')


@dataclass
class Grant:
    person_id: int
    client_id: str
    scope: str
    expires_at: float
    redirect_uri: str = ""
    challenge: str | None = None


@dataclass
class LocalKundelik:
    """State of one local Kundelik: registered client, people, issued codes and tokens, failure switches."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    world: World = field(default_factory=demo_world)
    #: Lifetime of an access token in seconds (reported as ``expiresIn``; 0: expired at once, to test expiry).
    expires_in: int = 86400
    pkce_required: bool = False
    #: While True, every API and token call answers 503 with an HTML page (Kundelik's maintenance).
    maintenance: bool = False
    #: Kundelik ids of schools whose calls (``schools/{id}`` and below) answer 503 with that page, retries
    #: included: one school's roster unreachable while the others answer.
    unavailable_schools: set[int] = field(default_factory=set)
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (the next call gets 401)."""
        for grant in self.tokens.values():
            grant.expires_at = 0


def state() -> LocalKundelik:
    return current_app.extensions["kundelik_local"]


# --- OAuth2 -------------------------------------------------------------------------------------------------------

oauth = Blueprint("oauth", __name__)


def _redirect_to(uri: str, **params: str) -> BaseResponse:
    separator = "&" if "?" in uri else "?"
    return redirect(uri + separator + urlencode(params), code=302)


@oauth.route("/oauth2", methods=["GET", "POST"])
def authorize() -> Any:
    here = state()
    args = request.values
    client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
    if client_id != here.client_id or redirect_uri not in here.redirect_uris:
        # Never redirect to an address that was not registered for the client.
        return render_template("kundelik_local/error.html"), 400
    oauth_state = args.get("state", "")
    if args.get("response_type") != "code":
        return _redirect_to(redirect_uri, error="unsupported_response_type", state=oauth_state)
    challenge = args.get("code_challenge") or None
    if (challenge and args.get("code_challenge_method") != "S256") or (here.pkce_required and not challenge):
        return _redirect_to(redirect_uri, error="invalid_request", state=oauth_state)
    scope = ",".join(s for s in args.get("scope", "").split(",") if s in SCOPES)
    failed = False
    if request.method == "POST":
        if request.form.get("decision") == "deny":
            return _redirect_to(redirect_uri, error="access_denied", state=oauth_state, result="success",
                                is_granted="False")
        person = here.world.person_by_login(request.form.get("login", ""))
        if person is not None and hmac.compare_digest(request.form.get("password", ""), PASSWORD):
            code = secrets.token_urlsafe(24)
            here.codes[code] = Grant(person.id, client_id, scope, time.time() + CODE_LIFETIME, redirect_uri,
                                     challenge)
            return _redirect_to(redirect_uri, code=code, state=oauth_state, result="success", is_granted="True")
        failed = True
    logins = sorted((p for p in here.world.persons.values() if p.has_user and "-" not in p.login),
                    key=lambda p: p.login)
    return render_template("kundelik_local/authorize.html", params=args, scope=scope, failed=failed,
                           logins=logins)


def _client_from_basic() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except ValueError:
        return None
    return client_id, secret


def _token_response(grant: Grant) -> Response:
    here = state()
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    issued = Grant(grant.person_id, grant.client_id, grant.scope, time.time() + here.expires_in)
    here.tokens[access] = issued
    here.refresh_tokens[refresh] = Grant(grant.person_id, grant.client_id, grant.scope, time.time() + 90 * 86400)
    user_id = here.world.persons[grant.person_id].user_id
    return jsonify({"accessToken": access, "expiresIn": here.expires_in, "expiresIn_str": str(here.expires_in),
                    "refreshToken": refresh, "scope": grant.scope, "user": user_id, "user_str": str(user_id)})


def _invalid_request() -> tuple[Response, int]:
    return jsonify({"error": "invalid_request", "error_description": ""}), 401


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@oauth.route("/v2.0/authorizations", methods=["POST"])
@oauth.route("/v2/authorizations", methods=["POST"])
def token() -> Any:
    here = state()
    if here.maintenance:
        return Response(MAINTENANCE_PAGE, 503, content_type="text/html; charset=utf-8")
    body = request.get_json(silent=True)  # Kundelik's POST bodies are JSON (§1.2): a form body is not read
    if not isinstance(body, dict):
        body = {}
    client = _client_from_basic() or (str(body.get("client_id", "")), str(body.get("client_secret", "")))
    if client[0] != here.client_id or not hmac.compare_digest(client[1], here.client_secret):
        return jsonify(shapes.error("invalid_client", "Invalid client")), 403
    grant_type = body.get("grant_type")
    if grant_type == "AuthorizationCode":
        grant = here.codes.pop(str(body.get("code", "")), None)  # a code works once
        if grant is None or grant.client_id != client[0] or grant.expires_at < time.time():
            return _invalid_request()
        if grant.challenge is not None:
            verifier = str(body.get("code_verifier", ""))
            if not verifier or not hmac.compare_digest(_s256(verifier), grant.challenge):
                return _invalid_request()
        return _token_response(grant)
    if grant_type == "RefreshToken":
        value = str(body.get("RefreshToken") or body.get("refreshToken") or "")
        grant = here.refresh_tokens.pop(value, None)
        if grant is None or grant.client_id != client[0] or grant.expires_at < time.time():
            return _invalid_request()
        return _token_response(grant)
    return jsonify({"error": "unsupported_grant_type", "error_description": ""}), 400


# --- REST API -----------------------------------------------------------------------------------------------------

api = Blueprint("api", __name__)


class ApiError(Exception):
    def __init__(self, status: int, kind: str, description: str) -> None:
        super().__init__(description)
        self.status, self.kind, self.description = status, kind, description


@api.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[Response, int]:
    return jsonify(shapes.error(error.kind, error.description)), error.status


def _caller(scope: str) -> Person:
    """The person whose token came with the request, if it is valid and its grant includes ``scope``."""
    here = state()
    value = request.headers.get("Access-Token", "")
    if not value and request.headers.get("Authorization", "").startswith("Bearer "):
        value = request.headers["Authorization"][7:]
    grant = here.tokens.get(value.strip())
    if grant is None or grant.expires_at <= time.time():
        raise ApiError(401, "authorizationFailed", "Can't authorize")
    if scope not in grant.scope.split(","):
        raise ApiError(403, "authorizationFailed", f"The {scope} scope was not granted")
    return here.world.persons[grant.person_id]


@api.before_request
def _maintenance() -> Response | None:
    here = state()
    school = (request.view_args or {}).get("school", "")
    if here.maintenance or (str(school).isdigit() and int(school) in here.unavailable_schools):
        return Response(MAINTENANCE_PAGE, 503, content_type="text/html; charset=utf-8")
    return None


def _id(value: str) -> int:
    if not value.isdigit():
        raise ApiError(400, "parameterInvalid", f"Invalid identifier: {value[:40]}")
    return int(value)


def _person(value: str) -> Person:
    found = state().world.persons.get(_id(value))
    if found is None:
        raise ApiError(400, "parameterInvalid", f"Person {value} not found")
    return found


def _user(value: str) -> Person:
    found = state().world.person_by_user(_id(value))
    if found is None:
        raise ApiError(400, "parameterInvalid", f"User {value} not found")
    return found


def _school(value: str) -> Any:
    found = state().world.schools.get(_id(value))
    if found is None:
        raise ApiError(400, "parameterInvalid", f"School {value} not found")
    return found


def _group(value: str) -> Any:
    found = state().world.groups.get(_id(value))
    if found is None:
        raise ApiError(400, "parameterInvalid", f"Edu group {value} not found")
    return found


def _me_or(user: str) -> Person:
    """``me`` (the caller) or the user with the id ``user``."""
    caller = _caller("CommonInfo")
    return caller if user == "me" else _user(user)


@api.get("/users/me")
def users_me() -> Any:
    return jsonify(shapes.user(_caller("CommonInfo")))


@api.get("/users/<user>/context")
def user_context(user: str) -> Any:
    _caller("EducationalInfo")
    return jsonify(shapes.context(_me_or(user), state().world, SCHOOL_YEAR))


@api.get("/users/<user>/roles")
def user_roles(user: str) -> Any:
    return jsonify(list(_me_or(user).roles))


@api.get("/users/<user>/schools")
def user_schools(user: str) -> Any:
    _caller("EducationalInfo")
    return jsonify(list(_me_or(user).school_ids))


@api.post("/users/many")
def users_many() -> Any:
    _caller("CommonInfo")
    ids = request.get_json(silent=True)
    if not isinstance(ids, list):
        raise ApiError(400, "parameterInvalid", "A list of user ids is expected")
    found = [state().world.person_by_user(int(i)) for i in ids if str(i).isdigit()]
    return jsonify([shapes.user(p) for p in found if p is not None])


@api.get("/users/<user>/relatives")
def user_relatives(user: str) -> Any:
    _caller("FriendsAndRelatives")
    world = state().world
    return jsonify([{"type": kind, "person": shapes.person(world.persons[pid])}
                    for kind, pid in world.relatives.get(_me_or(user).id, [])])


@api.get("/users/<user>/children")
def user_children(user: str) -> Any:
    _caller("FriendsAndRelatives")
    world = state().world
    return jsonify([world.persons[pid].user_id for kind, pid in world.relatives.get(_me_or(user).id, [])
                    if kind == "Child"])


@api.get("/persons/<person>")
def person(person: str) -> Any:
    _caller("EducationalInfo")
    return jsonify(shapes.person_detail(_person(person)))


@api.get("/schools/<school>")
def school(school: str) -> Any:
    _caller("EducationalInfo")
    return jsonify(shapes.school(_school(school)))


@api.get("/schools/<school>/edu-groups")
def school_groups(school: str) -> Any:
    _caller("EducationalInfo")
    found = _school(school)
    return jsonify([shapes.edu_group(g, SCHOOL_YEAR) for g in state().world.groups.values()
                    if g.school_id == found.id])


def _staff_of(school_id: int) -> list[Person]:
    return [p for p in state().world.persons.values()
            if school_id in p.school_ids and ("EduStaff" in p.roles or "EduSchoolAdministrator" in p.roles)]


@api.get("/schools/<school>/teachers")
def school_teachers(school: str) -> Any:
    _caller("EducationalInfo")
    found = _school(school)
    leaders = {g.class_teacher for g in state().world.groups.values()}
    return jsonify([shapes.teacher(p, house_master=p.id in leaders) for p in _staff_of(found.id)])


@api.get("/schools/<school>/membership")
def school_membership(school: str) -> Any:
    _caller("EducationalInfo")
    found = _school(school)
    kind = request.args.get("schoolMembershipType", "Staff")
    if kind not in ("Admins", "Staff"):
        raise ApiError(400, "parameterInvalid", "schoolMembershipType must be Admins or Staff")
    people = _staff_of(found.id)
    if kind == "Admins":
        people = [p for p in people if "EduSchoolAdministrator" in p.roles]
    return jsonify([shapes.person(p) for p in people])


@api.get("/edu-groups/<group>")
def group(group: str) -> Any:
    _caller("EducationalInfo")
    return jsonify(shapes.edu_group(_group(group), SCHOOL_YEAR))


@api.get("/edu-groups/<group>/persons")
def group_persons(group: str) -> Any:
    _caller("EducationalInfo")
    found = _group(group)
    ids = list(found.members)
    if request.args.get("includeArchive", "false").lower() == "true":
        ids += found.archive
    return jsonify([shapes.person(state().world.persons[i]) for i in ids])


@api.get("/edu-groups/<group>/classteacher")
def group_class_teacher(group: str) -> Any:
    _caller("EducationalInfo")
    found = _group(group)
    if found.class_teacher is None:
        raise ApiError(400, "parameterInvalid", f"Edu group {group} has no class teacher")
    return jsonify(shapes.person(state().world.persons[found.class_teacher]))


@api.get("/edu-groups/<group>/teachers")
def group_teachers(group: str) -> Any:
    _caller("EducationalInfo")
    found = _group(group)
    teachers = [found.class_teacher] if found.class_teacher else []
    return jsonify([shapes.person(state().world.persons[i]) for i in teachers])


def create_server(local: LocalKundelik) -> Flask:
    """A WSGI app serving ``local``: the consent page, the token endpoint and the API under /v2 and /v2.0."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_hex(16)
    app.extensions["kundelik_local"] = local
    app.register_blueprint(oauth)
    app.register_blueprint(api, url_prefix="/v2")
    app.register_blueprint(api, url_prefix="/v2.0", name="api_v2_0")

    @app.errorhandler(404)
    def _not_found(_error: Exception) -> tuple[Response, int]:
        return jsonify(shapes.error("apiUnknownError", "Unknown method")), 404

    return app
