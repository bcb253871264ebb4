"""Start-up checks: production refuses to run without its secrets, and the keys are loaded once."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask

from app.core.crypto import BlindIndex, CryptoError, Keyring, spec_keys
from app.core.encryption import CryptoState
from app.core.framing import parse_ancestors
from app.core.links import base_url_problem


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set."""


_REQUIRED_IN_PRODUCTION = {
    "SECRET_KEY": "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "SENIM_ENCRYPTION_KEYS": "SENIM_ENCRYPTION_KEYS",
    "SENIM_BLIND_INDEX_KEY": "SENIM_BLIND_INDEX_KEY",
    "SENIM_BASE_URL": "SENIM_BASE_URL",
}


def check_config(app: Flask) -> None:
    """Refuse to start production without secrets, with insecure keys, or with debugging on; check the framing
    origins in every environment."""
    check_framing(app)
    if app.config["ENV_NAME"] != "production":
        return
    missing = [env for key, env in _REQUIRED_IN_PRODUCTION.items() if not app.config.get(key)]
    if missing:
        raise ConfigurationError(
            "Senim will not start in production without these environment variables: "
            + ", ".join(missing) + ". See README.md, section 'Configuration'."
        )
    insecure = [
        env for key, env in _REQUIRED_IN_PRODUCTION.items()
        if "insecure" in str(app.config.get(key, "")).lower()
    ]
    # The local Kundelik's published client secret (kundelik_local) never opens the real Kundelik.
    if "insecure" in str(app.config.get("SENIM_KUNDELIK_CLIENT_SECRET", "")).lower():
        insecure.append("SENIM_KUNDELIK_CLIENT_SECRET")
    if insecure:
        raise ConfigurationError(
            "Development keys marked 'insecure' are not allowed in production: " + ", ".join(insecure)
        )
    problem = base_url_problem(str(app.config["SENIM_BASE_URL"]), production=True)
    if problem:
        raise ConfigurationError(problem + ".")
    if not app.config.get("TRUSTED_HOSTS"):  # only the public address's host is answered (B25)
        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["SENIM_BASE_URL"]).hostname]
    if len(str(app.config["SECRET_KEY"])) < 32:
        raise ConfigurationError("SECRET_KEY must be at least 32 characters long in production.")
    if app.config.get("DEBUG") or app.config.get("SENIM_DEMO_ALLOWED"):
        raise ConfigurationError("DEBUG and demo data must be off in production.")
    refuse_published_keys(app)


def check_framing(app: Flask) -> None:
    """Check SENIM_FRAME_ANCESTORS (https:// only in production) and store it as a CSP source list."""
    production = app.config["ENV_NAME"] == "production"
    try:
        origins = parse_ancestors(app.config.get("SENIM_FRAME_ANCESTORS"), production=production)
    except ValueError as exc:
        raise ConfigurationError(f"{exc}.") from exc
    app.config["SENIM_FRAME_ANCESTORS"] = " ".join(origins) or "'none'"


def _published_key_bytes() -> set[bytes]:
    """The bytes of every key written in the repository (config.PUBLISHED_SECRETS)."""
    from config import PUBLISHED_SECRETS

    found: set[bytes] = set()
    for secret in PUBLISHED_SECRETS:
        try:
            found.update(spec_keys(secret))
        except CryptoError:
            found.add(secret.encode())
    return found


def refuse_published_keys(app: Flask) -> None:
    """Production refuses keys published in the repository, whatever key id they are given (security.md §3)."""
    from config import PUBLISHED_SECRETS

    published = _published_key_bytes()
    named = {"SENIM_ENCRYPTION_KEYS": app.config["SENIM_ENCRYPTION_KEYS"],
             "SENIM_BLIND_INDEX_KEY": app.config["SENIM_BLIND_INDEX_KEY"]}
    reused = []
    for env, spec in named.items():
        try:
            keys = spec_keys(str(spec))
        except CryptoError:
            continue  # init_crypto names the malformed entry
        if published.intersection(keys):
            reused.append(env)
    secret = str(app.config["SECRET_KEY"]).strip()
    texts = {text for spec in PUBLISHED_SECRETS for text in (spec, *spec.split(":"))}
    if any(len(text) >= 8 and (text in secret or secret in text) for text in texts):
        reused.append("SECRET_KEY")
    if reused:
        raise ConfigurationError(
            "These keys are published in Senim's source code and must not be used in production: "
            + ", ".join(reused) + ". Generate new ones with `flask keys generate`.")


def init_crypto(app: Flask) -> None:
    """Parse the encryption and blind-index keys; a bad key stops the start with a clear message."""
    try:
        keyring = Keyring.from_spec(app.config["SENIM_ENCRYPTION_KEYS"])
        blind = BlindIndex.from_spec(app.config["SENIM_BLIND_INDEX_KEY"])
    except CryptoError as exc:
        raise ConfigurationError(f"Encryption keys are misconfigured: {exc}") from exc
    if app.config["ENV_NAME"] == "production" and keyring.is_insecure:
        raise ConfigurationError("Development keys marked 'insecure' are not allowed in production.")
    app.extensions["senim_crypto"] = CryptoState(keyring=keyring, blind_index=blind)
