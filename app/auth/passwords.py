"""Password hashing with argon2id and the password policy (ASVS 6.2, security.md §1.1).

Passwords are hashed and verified exactly as typed (case-sensitive, never truncated); the only change is
Unicode NFC, so the same letters typed as precomposed or combining characters (й, ё) are one password.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import secrets
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

#: argon2id parameters for production: t=3, m=64 MiB, p=4 (ASVS Appendix C; ~0.1 s per hash).
PRODUCTION_PARAMS: Mapping[str, int] = MappingProxyType({"time_cost": 3, "memory_cost": 65536, "parallelism": 4})
HASH_LEN = 32
SALT_LEN = 16
MIN_LENGTH = 10
MAX_LENGTH = 128
#: Product names always treated as context words (ASVS 6.2.11), whatever the caller passes.
PRODUCT_CONTEXT_WORDS: tuple[str, ...] = ("kundelik", "kündelik", "күнделік", "кунделик", "senim", "сенім", "сеним")
#: Cyrillic letters that look like Latin ones ("Sеnim" with a Cyrillic е): both sides are compared in Latin.
_LOOK_ALIKES = str.maketrans({"а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k",
                              "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
                              "ѕ": "s", "һ": "h", "ԁ": "d", "ӏ": "l"})
#: Minimum length of a context word (or of a word inside one) that a password may not contain.
MIN_CONTEXT_WORD = 4
#: A hash of a random, discarded password with PRODUCTION_PARAMS: verifying against it costs as much
#: as a real verification, so an unknown username takes as long as a wrong password (ASVS 6.3.8).
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$Z5ZE9BXNvHNQVpbCGoT1Kg$cJrSqg8XTJBRaAKnEMpT0P0EjwyTO9Ywz61KLFgCX5g"

#: The password hash of an account nobody can sign in to with a password (parents brought in by a roster file):
#: :func:`verify_password` refuses it at the cost of a real verification. Its owner sets a password through the
#: e-mailed reset link or gets a temporary one from the school, or signs in through Kundelik.
UNUSABLE_HASH = "!no-password"

_COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Leading or trailing runs of anything but letters: "Kundelik2024!" -> "kundelik".
_EDGES_RE = re.compile(r"^[\W\d_]+|[\W\d_]+\Z")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")

_ParamsKey = tuple[Type, int, int, int, int, int]
_dummy_hashes: dict[_ParamsKey, str] = {}
_dummy_lock = threading.Lock()


class PolicyViolation(StrEnum):
    """Why a new password is refused; the values are stable message keys."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    CONTAINS_CONTEXT = "contains_context"


def make_hasher(*, time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    """Return an argon2id hasher with the given cost (use ``**PRODUCTION_PARAMS`` outside tests)."""
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_cost,
        parallelism=parallelism,
        hash_len=HASH_LEN,
        salt_len=SALT_LEN,
        type=Type.ID,
    )


def _prepare(password: str) -> str:
    if not isinstance(password, str):
        raise TypeError("password must be str")
    return unicodedata.normalize("NFC", password)


def hash_password(hasher: PasswordHasher, password: str) -> str:
    """Hash a password with a fresh random salt; the result embeds its own parameters."""
    return hasher.hash(_prepare(password))


def verify_password(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; False on mismatch or an unusable hash."""
    if not isinstance(stored_hash, str) or not stored_hash.startswith("$argon2"):
        return verify_dummy(hasher, password)
    try:
        return hasher.verify(stored_hash, _prepare(password))
    except (VerificationError, InvalidHashError):
        return False


def same_password(first: str, second: str) -> bool:
    """True when two typed passwords are one password as :func:`hash_password` sees them (NFC, case-sensitive)."""
    return hmac.compare_digest(_prepare(first).encode("utf-8"), _prepare(second).encode("utf-8"))


def needs_rehash(hasher: PasswordHasher, stored_hash: str) -> bool:
    """True when ``stored_hash`` was made with other parameters (rehash after a successful login)."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def _params_key(hasher: PasswordHasher) -> _ParamsKey:
    return (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len, hasher.salt_len)


_dummy_hashes[_params_key(make_hasher(**PRODUCTION_PARAMS))] = DUMMY_HASH


def dummy_hash_for(hasher: PasswordHasher) -> str:
    """Return a throwaway hash with this hasher's parameters (computed once; call at start-up to warm)."""
    key = _params_key(hasher)
    cached = _dummy_hashes.get(key)
    if cached is None:
        with _dummy_lock:
            cached = _dummy_hashes.get(key)
            if cached is None:
                cached = _dummy_hashes[key] = hasher.hash(secrets.token_urlsafe(32))
    return cached


def verify_dummy(hasher: PasswordHasher, password: str) -> bool:
    """Spend the time of one verification for a user that does not exist; always False."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        hasher.verify(dummy_hash_for(hasher), _prepare(password))
    return False


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _strip_edges(folded: str) -> str:
    return _EDGES_RE.sub("", folded)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords and product words, folded and edge-stripped."""
    words: set[str] = set()
    for line in _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        folded = _fold(line)
        words.update(form for form in (folded, _strip_edges(folded)) if form)
    return frozenset(words)


def _is_common(folded: str) -> bool:
    stripped = _strip_edges(folded)
    candidates = {folded, stripped, stripped.replace(" ", "")} - {""}
    return not candidates.isdisjoint(common_passwords())


def _context_terms(context_words: Iterable[str]) -> set[str]:
    terms: set[str] = set()
    for word in (*PRODUCT_CONTEXT_WORDS, *context_words):
        if not word:  # a missing username or school name is simply skipped
            continue
        folded = _fold(word)
        parts = [folded, *_LETTER_RUN_RE.findall(folded)]
        terms.update(part for part in parts if len(part) >= MIN_CONTEXT_WORD)
    return terms


def check_password_policy(password: str, *, context_words: Iterable[str] = ()) -> list[PolicyViolation]:
    """Return every policy rule a new password breaks (empty list = acceptable); no composition rules.

    ``context_words`` should hold the username, the user's name and the school's name: the password
    may not contain any of them, nor any word of 4+ letters inside them, compared casefolded.
    """
    prepared = _prepare(password)
    violations: list[PolicyViolation] = []
    if len(prepared) < MIN_LENGTH:
        violations.append(PolicyViolation.TOO_SHORT)
    if len(prepared) > MAX_LENGTH:
        violations.append(PolicyViolation.TOO_LONG)
    folded = _fold(prepared)
    if _is_common(folded):
        violations.append(PolicyViolation.COMMON)
    plain = folded.translate(_LOOK_ALIKES)
    if any(term in folded or term.translate(_LOOK_ALIKES) in plain for term in _context_terms(context_words)):
        violations.append(PolicyViolation.CONTAINS_CONTEXT)
    return violations
