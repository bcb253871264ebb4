"""Configuration classes for Senim.

Development and testing work out of the box with keys that are visibly marked ``insecure-``;
production reads every secret from the environment and refuses to start without it
(see :func:`app.core.config_checks.check_production_config`).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Development/test keys. The key ids start with "insecure" so that production refuses them.
_INSECURE_ENCRYPTION_KEYS = "insecure-dev1:c2VuaW0taW5zZWN1cmUtZGV2ZWxvcG1lbnQta2V5MDE="
_INSECURE_BLIND_INDEX_KEY = "insecure-bidx1:c2VuaW0taW5zZWN1cmUtYmxpbmQtaW5kZXgta2V5MDE="


#: Every secret written in this repository (development, test and documentation values). Production refuses a
#: key whose bytes equal one of these under any key id, and a SECRET_KEY equal to one of them
#: (tests/security/test_published_keys.py fails when a key-like value in the repository is missing here).
PUBLISHED_SECRETS = (
    _INSECURE_ENCRYPTION_KEYS,
    _INSECURE_BLIND_INDEX_KEY,
    "insecure-development-secret-key",
)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class BaseConfig:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    TESTING = False
    DEBUG = False

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    #: No pool_pre_ping (a round trip on every request): app/core/database.py discards dead connections at
    #: checkout by looking at their socket, and connections are retired after 30 minutes.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": 1800}

    # --- languages -------------------------------------------------------
    LANGUAGES = ("kk", "ru", "en")
    BABEL_DEFAULT_LOCALE = "kk"
    BABEL_DEFAULT_TIMEZONE = "Asia/Almaty"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")

    # --- sessions and cookies (security.md §1.2) -----------------------------
    SESSION_COOKIE_NAME = "senim_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    #: Idle timeouts: roles that see sensitive data get the shorter one.
    SENIM_IDLE_TIMEOUT_SENSITIVE = timedelta(minutes=15)
    SENIM_IDLE_TIMEOUT_DEFAULT = timedelta(minutes=30)
    #: Absolute session lifetime, however active the user is.
    SENIM_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # --- sign-in throttling (security.md §7 B14) --------------------------------
    SENIM_LOCKOUT_THRESHOLD = 10
    SENIM_LOCKOUT_WINDOW = timedelta(minutes=15)
    SENIM_LOCKOUT_DURATION = timedelta(minutes=15)
    SENIM_IP_THROTTLE_THRESHOLD = 30
    SENIM_MFA_MAX_FAILURES = 6
    #: "Forgot your password?" (app.auth.reset): links e-mailed per account and requests per address within the
    #: window; further requests get the same answer and no mail. Kept apart from sign-in failures.
    SENIM_RESET_WINDOW = timedelta(hours=1)
    SENIM_RESET_ACCOUNT_THRESHOLD = 3
    SENIM_RESET_IP_THRESHOLD = 20
    #: "Ask for help" (app.help): requests per browser and per address within the window (a class behind one
    #: school NAT may write; a script may not flood a psychologist's inbox).
    SENIM_HELP_WINDOW = timedelta(hours=1)
    SENIM_HELP_DEVICE_THRESHOLD = 3
    SENIM_HELP_IP_THRESHOLD = 30
    #: Seminars (app.seminars): registrants are e-mailed a reminder this many hours before the start
    #: (``flask seminars remind``, run from cron).
    SENIM_SEMINAR_REMIND_BEFORE_HOURS = 24

    #: Where the quick-exit button of Street Law and "ask for help" leads: a neutral site (app/streetlaw).
    SENIM_QUICK_EXIT_URL = "https://www.google.com/"

    #: Parents' requests for a meeting (app.parents.meetings): at most this many per parent within the window.
    SENIM_MEETING_WINDOW = timedelta(hours=24)
    SENIM_MEETING_THRESHOLD = 3

    # --- passwords -------------------------------------------------------------
    #: argon2id parameters (security.md §1.1, ASVS App C); tests lower them for speed.
    SENIM_ARGON2 = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}

    # --- request limits ------------------------------------------------------------
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    MAX_FORM_PARTS = 1000
    MAX_FORM_MEMORY_SIZE = 500_000

    # --- roster import (app/roster) -----------------------------------------------
    #: Largest roster file accepted, and most rows per sheet (a school of 10,000 pupils fits).
    SENIM_ROSTER_MAX_BYTES = 8 * 1024 * 1024
    SENIM_ROSTER_MAX_ROWS = 10_000
    #: How long an uploaded file is kept (encrypted) between its preview and the commit.
    SENIM_ROSTER_UPLOAD_TTL = timedelta(minutes=30)

    # --- monitoring: break-the-glass and attachments ---------------------------------
    #: How long emergency access to a case lasts (then it stops at once).
    SENIM_EMERGENCY_ACCESS = timedelta(hours=4)
    #: Largest case-note attachment accepted.
    SENIM_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

    # --- CSRF ----------------------------------------------------------------------
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the server-side session

    # --- embedding in Kundelik -----------------------------------------------------
    #: Origins allowed to frame Senim, space- or comma-separated, e.g. "https://kundelik.kz https://*.kundelik.kz"
    #: ("'none'" forbids framing; production accepts https:// only). See README, "Embedding in Kundelik".
    SENIM_FRAME_ANCESTORS = "'none'"
    #: The session cookie of Senim inside a Kundelik frame (SameSite=None; Secure; Partitioned), apart from the
    #: standalone site's SameSite=Lax one.
    SENIM_FRAME_SESSION_COOKIE_NAME = "senim_frame"
    SENIM_HSTS = True

    # --- Sign in with Kundelik (app/kundelik; kundelik-api.md §1.2, §5.1) ---------------------------------------
    #: Kundelik's consent page, token endpoint and REST API. The local test server (python -m kundelik_local)
    #: is used by pointing these three at it; nothing else changes.
    SENIM_KUNDELIK_OAUTH_URL = "https://login.kundelik.kz/oauth2"
    SENIM_KUNDELIK_TOKEN_URL = "https://api.kundelik.kz/v2.0/authorizations"  # noqa: S105  (an address)
    SENIM_KUNDELIK_API_URL = "https://api.kundelik.kz/v2/"
    #: Senim's own partner client from Kundelik LLP (never an official app's). Empty: no "Sign in with Kundelik".
    SENIM_KUNDELIK_CLIENT_ID = ""
    SENIM_KUNDELIK_CLIENT_SECRET = ""
    SENIM_KUNDELIK_SCOPE = "CommonInfo,EducationalInfo,FriendsAndRelatives"
    #: PKCE (S256) on top of the client secret. Kundelik does not document it: off until Kundelik confirms it.
    SENIM_KUNDELIK_PKCE = _env_bool("SENIM_KUNDELIK_PKCE", False)
    #: Seconds to wait for Kundelik, and how long a started sign-in (its state) stays valid.
    SENIM_KUNDELIK_TIMEOUT = 10
    SENIM_KUNDELIK_STATE_TTL = timedelta(minutes=10)
    #: Roster sync (app.kundelik.sync): retries of a call that meets 429, 503 or an HTML page, the first wait in
    #: seconds (doubled at each retry), and whether the admin page runs the sync in a background thread.
    SENIM_KUNDELIK_SYNC_RETRIES = 3
    SENIM_KUNDELIK_SYNC_BACKOFF = 2.0
    SENIM_KUNDELIK_SYNC_BACKGROUND = True
    #: A running sync writes a heartbeat with its progress (with each class and pupil it reads: at least every two
    #: Kundelik calls, which the timeout and retries above bound to about two minutes). One silent for longer than
    #: this was interrupted (its web worker or command stopped): it is shown as interrupted, committed nothing, and
    #: no longer blocks a new run of its school.
    SENIM_KUNDELIK_SYNC_STALE_AFTER = timedelta(minutes=10)

    # --- e-mail --------------------------------------------------------------------
    SENIM_SMTP_HOST = ""
    SENIM_SMTP_PORT = int(os.environ.get("SENIM_SMTP_PORT", "25"))
    SENIM_MAIL_FROM = "senim@localhost"
    SENIM_SMTP_TIMEOUT = 10
    #: These three can also come from the environment (checked by _mail_overrides below).
    #: Mail goes through an outbox table (app/core/mail.py). "background": after a request commits, a thread
    #: of the web process sends what it queued, and the cron commands send theirs before they exit; "off": only
    #: `flask mail send` (cron, every minute: it also retries) or a direct call sends.
    SENIM_MAIL_DELIVERY = "background"
    #: Attempts per message (1, 2, 4… minutes apart, at most an hour) before the outbox gives up on it.
    SENIM_MAIL_MAX_ATTEMPTS = 8
    #: Public address of Senim (e.g. "https://senim.example.kz"): every absolute link in mail and on printed code
    #: cards is built from it, never from a request's Host header. Required in production.
    SENIM_BASE_URL = ""

    # --- screening alerts and one-time codes (issue 4) ------------------------------
    #: Deadline to acknowledge an alert, by severity: a timedelta after it was raised, or
    #: "end_of_school_day" (SENIM_SCHOOL_DAY_ENDS local time; after hours: the next day's end).
    #: An acute alert is in front of the psychologist at once (inbox, menu count, e-mail); it counts as overdue and
    #: goes to the administration only after these minutes without an acknowledgement.
    SENIM_ALERT_DEADLINES: dict = {
        "acute": timedelta(minutes=15), "urgent": "end_of_school_day", "routine": timedelta(days=7),
    }
    SENIM_SCHOOL_DAY_ENDS = "18:00"
    #: Days between follow-ups of a pupil under monitoring (open case or registry) unless the case sets its own.
    SENIM_FOLLOWUP_INTERVAL_DAYS = int(os.environ.get("SENIM_FOLLOWUP_INTERVAL_DAYS", "30"))
    #: How long a sitting that an alert rule launched (PHQ-A question 9 -> ASQ) stays open. It has no printed code,
    #: so it cannot be resumed once the pupil's browser session ends; after this, close-expired submits what was
    #: answered and an abandoned positive ASQ gets its fail-safe.
    SENIM_LAUNCHED_SITTING_TIME = timedelta(hours=2)
    #: Wrong one-time codes within SENIM_LOCKOUT_WINDOW before /s refuses further tries: per browser, and per
    #: address (sized for a class of 30 behind one school NAT). Counted apart from staff sign-in failures.
    SENIM_OTC_DEVICE_THRESHOLD = 10
    SENIM_OTC_IP_THRESHOLD = 100
    #: How long issued code cards stay printable (their codes kept encrypted) when nobody marks them printed.
    SENIM_CODE_CARDS_KEPT = timedelta(hours=24)

    SENIM_INSTRUMENTS_DIR = os.environ.get("SENIM_INSTRUMENTS_DIR", str(BASE_DIR / "instruments"))
    SENIM_DEMO_ALLOWED = False

    # --- aggregate reports (security.md §6 "Aggregates for district officers") ------
    #: Counts from 1 to this minus one are shown as "<5" (and complements hidden); see app.reports.suppression.
    SENIM_SMALL_CELL = 5


class DevelopmentConfig(BaseConfig):
    """Local development: SQLite file, insecure keys, demo data allowed."""

    ENV_NAME = "development"
    DEBUG = False  # the debugger is never on: run `flask run --debug` yourself if you need it
    SECRET_KEY = "insecure-development-secret-key"  # noqa: S105  (development only; production reads the environment)
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{BASE_DIR / 'instance' / 'senim.db'}"
    SENIM_ENCRYPTION_KEYS = _INSECURE_ENCRYPTION_KEYS
    SENIM_BLIND_INDEX_KEY = _INSECURE_BLIND_INDEX_KEY
    SENIM_DEMO_ALLOWED = True
    SENIM_HSTS = False
    SENIM_BASE_URL = "http://127.0.0.1:5000"  # where `make run` serves


class TestingConfig(DevelopmentConfig):
    """The test suite: its own database, cheap password hashing."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("SENIM_TEST_DATABASE_URL", "sqlite://")
    SENIM_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    SENIM_MAIL_DELIVERY = "off"  # deterministic: tests send queued mail themselves (one test runs the thread)
    SERVER_NAME = None
    TRUSTED_HOSTS = None
    SENIM_BASE_URL = "http://localhost"  # the test client's host
    SENIM_KUNDELIK_SYNC_BACKOFF = 0.0  # retries at once
    SENIM_KUNDELIK_SYNC_BACKGROUND = False  # the page's run finishes inside the request (one test runs the thread)


class ProductionConfig(BaseConfig):
    """Production: every secret from the environment, secure cookies, HSTS."""

    ENV_NAME = "production"
    # Read from the environment by create_app() at start-up; see ENVIRONMENT_SETTINGS.
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None
    SENIM_ENCRYPTION_KEYS = None
    SENIM_BLIND_INDEX_KEY = None
    SESSION_COOKIE_NAME = "__Host-senim"
    SENIM_FRAME_SESSION_COOKIE_NAME = "__Host-senim-frame"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    TRUSTED_HOSTS = None
    SENIM_BEHIND_PROXY = False


#: Environment variable -> config key, read at start-up (production reads nothing else).
ENVIRONMENT_SETTINGS = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SENIM_ENCRYPTION_KEYS": "SENIM_ENCRYPTION_KEYS",
    "SENIM_BLIND_INDEX_KEY": "SENIM_BLIND_INDEX_KEY",
    "SENIM_FRAME_ANCESTORS": "SENIM_FRAME_ANCESTORS",
    "SENIM_QUICK_EXIT_URL": "SENIM_QUICK_EXIT_URL",
    "SENIM_SMTP_HOST": "SENIM_SMTP_HOST",
    "SENIM_MAIL_FROM": "SENIM_MAIL_FROM",
    "SENIM_BASE_URL": "SENIM_BASE_URL",
    "SENIM_KUNDELIK_OAUTH_URL": "SENIM_KUNDELIK_OAUTH_URL",
    "SENIM_KUNDELIK_TOKEN_URL": "SENIM_KUNDELIK_TOKEN_URL",
    "SENIM_KUNDELIK_API_URL": "SENIM_KUNDELIK_API_URL",
    "SENIM_KUNDELIK_CLIENT_ID": "SENIM_KUNDELIK_CLIENT_ID",
    "SENIM_KUNDELIK_CLIENT_SECRET": "SENIM_KUNDELIK_CLIENT_SECRET",
    "SENIM_KUNDELIK_SCOPE": "SENIM_KUNDELIK_SCOPE",
}


def _mail_overrides() -> dict[str, object]:
    """Mail delivery settings from the environment, checked (a wrong value stops the start with its name)."""
    values: dict[str, object] = {}
    delivery = os.environ.get("SENIM_MAIL_DELIVERY", "").strip()
    if delivery:
        if delivery not in ("background", "off"):
            raise RuntimeError("SENIM_MAIL_DELIVERY must be 'background' or 'off'.")
        values["SENIM_MAIL_DELIVERY"] = delivery
    for name, kind, low in (("SENIM_MAIL_MAX_ATTEMPTS", int, 1), ("SENIM_SMTP_TIMEOUT", float, 1)):
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or value < low:
            raise RuntimeError(f"{name} must be a number of at least {low}.")
        values[name] = value
    return values


def environment_overrides(config_name: str) -> dict[str, object]:
    """Settings taken from the environment at start-up (tests keep their own database URL)."""
    values: dict[str, object] = {}
    for env_name, key in ENVIRONMENT_SETTINGS.items():
        if env_name == "DATABASE_URL" and config_name == "testing":
            continue
        if os.environ.get(env_name):
            values[key] = os.environ[env_name]
    if config_name != "testing":  # the tests choose their own delivery
        values.update(_mail_overrides())
    if config_name == "production":
        hosts = [h.strip() for h in os.environ.get("SENIM_TRUSTED_HOSTS", "").split(",") if h.strip()]
        values["TRUSTED_HOSTS"] = hosts or None
        values["SENIM_BEHIND_PROXY"] = _env_bool("SENIM_BEHIND_PROXY", False)
    return values


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
