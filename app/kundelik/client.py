"""Senim's Kundelik client: the OAuth2 authorization-code flow (Authlib) and the REST API (kundelik-api.md §1, §5).

Everything it knows of Kundelik comes from configuration (``SENIM_KUNDELIK_*``): pointing it at the real Kundelik
or at the local one (``kundelik_local``) is a change of addresses, nothing else.

* :func:`oauth_session` is an Authlib :class:`OAuth2Session` that speaks Kundelik's token dialect: the code is
  exchanged with a JSON body ``{code, client_id, client_secret, grant_type: "AuthorizationCode"}`` and a refresh
  is ``{grant_type: "RefreshToken", RefreshToken}`` with Basic client authentication; the answer
  ``{accessToken, expiresIn, refreshToken, scope, user_str}`` becomes an Authlib token (:class:`Token`).
* :class:`KundelikApi` calls ``/v2/`` with the token in the ``Access-Token`` header (never in the address, so it
  cannot end up in a log) and turns Kundelik's errors into :class:`KundelikError` subclasses.

Tokens and codes are never logged, and no error message carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from authlib.common.encoding import json_loads
from authlib.common.urls import url_decode
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749 import OAuth2Token
from flask import current_app

from app.core.models import utcnow


class KundelikError(Exception):
    """Kundelik did not answer as documented; ``reason`` is a short code for the audit log (no token in it)."""

    reason = "failed"

    def __init__(self, message: str = "", *, kind: str | None = None, status: int | None = None) -> None:
        super().__init__(message or self.reason)
        #: Kundelik's error ``type`` (or OAuth ``error``), e.g. "invalid_client", "parameterInvalid".
        self.kind = kind
        self.status = status


class KundelikUnauthorized(KundelikError):
    """401: the token (or code) is expired, used or invalid: sign in with Kundelik again."""

    reason = "unauthorized"


class KundelikUnavailable(KundelikError):
    """Kundelik is down: 5xx, an HTML maintenance page instead of JSON, a timeout or no connection. Retry later."""

    reason = "unavailable"


class KundelikRefused(KundelikError):
    """Any other documented error (``{"type": ..., "description": ...}``), e.g. ``invalid_client`` (403)."""

    reason = "refused"


@dataclass(frozen=True)
class Token:
    """Kundelik's answer to a code exchange or refresh."""

    access_token: str
    refresh_token: str | None
    #: When the access token expires (None: Kundelik gave no positive lifetime; read it, never assume one).
    expires_at: datetime | None
    scope: str
    #: Kundelik's id of the user (the login account, not the person), as text.
    user_id: str

    def __repr__(self) -> str:  # never print a token
        return f"<Token user={self.user_id} expires_at={self.expires_at}>"


def configured() -> bool:
    """True when Senim has a Kundelik client id and secret, so "Sign in with Kundelik" is offered."""
    config = current_app.config
    return bool(config.get("SENIM_KUNDELIK_CLIENT_ID") and config.get("SENIM_KUNDELIK_CLIENT_SECRET"))


def _timeout() -> float:
    return float(current_app.config["SENIM_KUNDELIK_TIMEOUT"])


def _json(response: requests.Response) -> Any:
    """The JSON body of a Kundelik answer, or the matching :class:`KundelikError`."""
    content_type = response.headers.get("Content-Type", "")
    body: Any = None
    if "json" in content_type:
        try:
            body = json_loads(response.text)
        except ValueError:
            body = None
    if response.status_code >= 500 or (body is None and response.status_code != 204):
        # 503 with Kundelik's HTML maintenance page, any HTML body, a broken JSON body: never data.
        raise KundelikUnavailable(f"HTTP {response.status_code}", status=response.status_code)
    if response.status_code >= 400:
        kind = str(body.get("type") or body.get("error") or "") if isinstance(body, dict) else ""
        error = KundelikUnauthorized if response.status_code == 401 else KundelikRefused
        raise error(f"HTTP {response.status_code} {kind}".strip(), kind=kind or None, status=response.status_code)
    return body


def _token(body: Any) -> Token:
    if not isinstance(body, dict) or not body.get("accessToken"):
        raise KundelikRefused("no accessToken in the answer")
    try:
        lifetime = int(body.get("expiresIn") or 0)
    except (TypeError, ValueError):
        lifetime = 0
    user_id = str(body.get("user_str") or body.get("user") or "")
    return Token(access_token=str(body["accessToken"]), refresh_token=body.get("refreshToken") or None,
                 expires_at=utcnow() + timedelta(seconds=lifetime) if lifetime > 0 else None,
                 scope=str(body.get("scope") or ""), user_id=user_id)


class KundelikOAuth2Session(OAuth2Session):
    """Authlib's session with Kundelik's token requests (JSON bodies, its own grant names and field names)."""

    #: The last answer of the token endpoint, as Kundelik sent it (read by :func:`exchange_code`).
    kundelik_token: Token | None = None

    def _kundelik_post(self, url: str, payload: dict[str, str], **kwargs: Any) -> OAuth2Token:
        try:
            response = self.post(url, json=payload, headers={"Accept": "application/json"},
                                 timeout=_timeout(), withhold_token=True, **kwargs)
        except requests.RequestException as error:
            raise KundelikUnavailable(type(error).__name__) from None
        self.kundelik_token = _token(_json(response))
        token = OAuth2Token.from_dict({
            "access_token": self.kundelik_token.access_token, "token_type": "bearer",
            "refresh_token": self.kundelik_token.refresh_token, "scope": self.kundelik_token.scope,
            **({"expires_at": int(self.kundelik_token.expires_at.timestamp())}
               if self.kundelik_token.expires_at else {}),
        })
        self.token = token
        return token

    def _fetch_token(self, url: str, body: str = "", headers: Any = None, auth: Any = None, method: str = "POST",
                     **kwargs: Any) -> OAuth2Token:
        form = dict(url_decode(body))
        payload = {"code": form.get("code", ""), "client_id": self.client_id, "client_secret": self.client_secret,
                   "grant_type": "AuthorizationCode"}
        if form.get("code_verifier"):
            payload["code_verifier"] = form["code_verifier"]
        return self._kundelik_post(url, payload, **kwargs)

    def _refresh_token(self, url: str, refresh_token: str | None = None, body: str = "", headers: Any = None,
                       auth: Any = None, **kwargs: Any) -> OAuth2Token:
        return self._kundelik_post(url, {"grant_type": "RefreshToken", "RefreshToken": refresh_token or ""},
                                   auth=(self.client_id, self.client_secret), **kwargs)


def oauth_session(redirect_uri: str) -> KundelikOAuth2Session:
    """An Authlib session for Senim's registered client (PKCE S256 when ``SENIM_KUNDELIK_PKCE``)."""
    config = current_app.config
    return KundelikOAuth2Session(
        client_id=config["SENIM_KUNDELIK_CLIENT_ID"], client_secret=config["SENIM_KUNDELIK_CLIENT_SECRET"],
        scope=config["SENIM_KUNDELIK_SCOPE"], redirect_uri=redirect_uri,
        code_challenge_method="S256" if config["SENIM_KUNDELIK_PKCE"] else None,
    )


def authorization_url(*, redirect_uri: str, state: str, code_verifier: str | None) -> str:
    """Where to send the browser: Kundelik's consent page for Senim's client, with ``state`` (and PKCE)."""
    url, _state = oauth_session(redirect_uri).create_authorization_url(
        current_app.config["SENIM_KUNDELIK_OAUTH_URL"], state=state, code_verifier=code_verifier)
    return str(url)


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str | None) -> Token:
    """Exchange an authorization code for a token (server to server; the browser never sees the token)."""
    session = oauth_session(redirect_uri)
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    session.fetch_token(current_app.config["SENIM_KUNDELIK_TOKEN_URL"], code=code, **extra)
    assert session.kundelik_token is not None  # noqa: S101  (set by every successful _kundelik_post)
    return session.kundelik_token


def refresh(refresh_token: str) -> Token:
    """A new token from a refresh token (``grant_type=RefreshToken``, Basic client authentication)."""
    session = oauth_session("")
    session.refresh_token(current_app.config["SENIM_KUNDELIK_TOKEN_URL"], refresh_token=refresh_token)
    assert session.kundelik_token is not None  # noqa: S101
    return session.kundelik_token


def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


def normalise_teacher(raw: dict[str, Any]) -> dict[str, Any]:
    """A ``Teacher`` (PascalCase in ``schools/{id}/teachers``) with camelCase keys: ``IdStr`` -> ``idStr``."""
    return {_lower_first(key): value for key, value in raw.items()}


class KundelikApi:
    """The Kundelik REST API (``SENIM_KUNDELIK_API_URL``, ``/v2/``) on behalf of one access token."""

    def __init__(self, access_token: str, *, base_url: str | None = None) -> None:
        self.base_url = (base_url or current_app.config["SENIM_KUNDELIK_API_URL"]).rstrip("/") + "/"
        self.timeout = _timeout()
        self.http = requests.Session()
        self.http.headers.update({"Access-Token": access_token, "Accept": "application/json"})

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise KundelikUnavailable(type(error).__name__) from None
        return _json(response)

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params or None)

    # --- who signed in ----------------------------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        """``GET users/me``: the signed-in ``User`` (``id_str``, ``personId_str``, names, ``roles``)."""
        return self.get("users/me")

    def context(self) -> dict[str, Any]:
        """``GET users/me/context``: roles, ``schools``/``schoolIds``, ``eduGroups``/``groupIds``, ``personId``."""
        return self.get("users/me/context")

    def roles(self, user_id: str = "me") -> list[str]:
        """``GET users/{user}/roles``."""
        return self.get(f"users/{user_id}/roles")

    def users_many(self, user_ids: list[str]) -> list[dict[str, Any]]:
        """``POST users/many``: ``User`` objects of many user ids at once."""
        return self._call("POST", "users/many", json=[int(i) for i in user_ids])

    def relatives(self, user_id: str = "me") -> list[dict[str, Any]]:
        """``GET users/{user}/relatives``: ``[{type, person: Person}]`` (a pupil's parents, a parent's children)."""
        return self.get(f"users/{user_id}/relatives")

    def children(self) -> list[Any]:
        """``GET users/me/children`` (the shape is unverified: the local server answers user ids)."""
        return self.get("users/me/children")

    # --- roster ------------------------------------------------------------------------------------------------
    def person(self, person_id: str) -> dict[str, Any]:
        """``GET persons/{id}``: a ``Person`` with its ``birthday``."""
        return self.get(f"persons/{person_id}")

    def school(self, school_id: str) -> dict[str, Any]:
        """``GET schools/{id}``."""
        return self.get(f"schools/{school_id}")

    def edu_groups(self, school_id: str) -> list[dict[str, Any]]:
        """``GET schools/{id}/edu-groups``: classes (``type`` "Group") and subgroups (non-empty ``parentIds``)."""
        return self.get(f"schools/{school_id}/edu-groups")

    def edu_group(self, group_id: str) -> dict[str, Any]:
        """``GET edu-groups/{id}``."""
        return self.get(f"edu-groups/{group_id}")

    def group_persons(self, group_id: str, *, include_archive: bool = False) -> list[dict[str, Any]]:
        """``GET edu-groups/{id}/persons?includeArchive=``: the pupils of a class (and its former pupils)."""
        return self.get(f"edu-groups/{group_id}/persons", includeArchive="true" if include_archive else "false")

    def class_teacher(self, group_id: str) -> dict[str, Any]:
        """``GET edu-groups/{id}/classteacher``: the class teacher's ``Person``."""
        return self.get(f"edu-groups/{group_id}/classteacher")

    def school_teachers(self, school_id: str) -> list[dict[str, Any]]:
        """``GET schools/{id}/teachers``, keys made camelCase (:func:`normalise_teacher`)."""
        return [normalise_teacher(t) for t in self.get(f"schools/{school_id}/teachers")]

    def school_membership(self, school_id: str, kind: str = "Staff") -> list[dict[str, Any]]:
        """``GET schools/{id}/membership?schoolMembershipType=Admins|Staff``: ``[Person]``."""
        return self.get(f"schools/{school_id}/membership", schoolMembershipType=kind)
