"""Start-up checks: production refuses to run without its secrets, and the keys are loaded once."""

from __future__ import annotations

from flask import Flask

from app.core.crypto import BlindIndex, CryptoError, Keyring
from app.core.encryption import CryptoState


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set."""


_REQUIRED_IN_PRODUCTION = {
    "SECRET_KEY": "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "SENIM_ENCRYPTION_KEYS": "SENIM_ENCRYPTION_KEYS",
    "SENIM_BLIND_INDEX_KEY": "SENIM_BLIND_INDEX_KEY",
}


def check_config(app: Flask) -> None:
    """Refuse to start production without secrets, with insecure keys, or with debugging on."""
    if app.config["ENV_NAME"] != "production":
        return
    missing = [env for key, env in _REQUIRED_IN_PRODUCTION.items() if not app.config.get(key)]
    if missing:
        raise ConfigurationError(
            "Senim will not start in production without these environment variables: "
            + ", ".join(missing) + ". See README.md, section 'Production'."
        )
    insecure = [
        env for key, env in _REQUIRED_IN_PRODUCTION.items()
        if "insecure" in str(app.config.get(key, "")).lower()
    ]
    if insecure:
        raise ConfigurationError(
            "Development keys marked 'insecure' are not allowed in production: " + ", ".join(insecure)
        )
    if len(str(app.config["SECRET_KEY"])) < 32:
        raise ConfigurationError("SECRET_KEY must be at least 32 characters long in production.")
    if app.config.get("DEBUG") or app.config.get("SENIM_DEMO_ALLOWED"):
        raise ConfigurationError("DEBUG and demo data must be off in production.")


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
