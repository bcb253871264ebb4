"""Field encryption (AES-256-GCM bound to table, column and row) and keyed blind indexes.

Pure Python: no Flask, no database. See security.md §3 for the design.

Ciphertext format, version 1::

    0x01 | len(key_id) (1 byte) | key_id (ASCII) | nonce (12 bytes) | AES-256-GCM ciphertext + tag (16 bytes)

The GCM associated data is that header followed by the caller's AAD (:func:`make_aad`), so changing
the format byte, the key id, the table, the column or the row makes decryption fail.
Error messages name key ids and positions, never key material or plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_V1 = 0x01
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
BLIND_INDEX_BYTES = 16
AAD_PREFIX = b"senim|v1"
#: AAD prefix for wrapped data keys; "key-wrap" cannot be a table name, so it never meets make_aad().
_WRAP_AAD_PREFIX = b"senim|v1|key-wrap|"
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_B64_RE = re.compile(r"[A-Za-z0-9_\-+/]+={0,2}")
_AAD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_MIN_TOKEN = 2 + 1 + NONCE_BYTES + TAG_BYTES


class CryptoError(Exception):
    """Base class of every error raised by this module."""


class DecryptionError(CryptoError):
    """The ciphertext is malformed, tampered with, moved to another row/column, or its key is absent."""


class KeyConfigError(CryptoError):
    """A key or key specification from the configuration is unusable."""


def generate_key() -> bytes:
    """Return a new random 256-bit key."""
    return secrets.token_bytes(KEY_BYTES)


def generate_key_b64() -> str:
    """Return a new random 256-bit key as base64url text (for the CLI and configuration)."""
    return base64.urlsafe_b64encode(generate_key()).decode("ascii")


def decode_key_b64(text: str, *, label: str = "key") -> bytes:
    """Decode base64url (or standard base64, padding optional) text into exactly 32 key bytes."""
    text = text.strip()
    if not _B64_RE.fullmatch(text):
        raise KeyConfigError(f"{label}: not base64url text")
    body = text.rstrip("=").replace("+", "-").replace("/", "_")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{label}: not valid base64url") from None
    if len(raw) != KEY_BYTES:
        raise KeyConfigError(f"{label}: must decode to exactly {KEY_BYTES} bytes (256 bits), got {len(raw)}")
    return raw


def _check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise KeyConfigError(f"key id {key_id!r} must be 1-16 characters from A-Z a-z 0-9 _ -")
    return key_id


def _parse_spec_entry(entry: str, position: int) -> tuple[str, bytes]:
    key_id, sep, encoded = entry.strip().partition(":")
    if not sep or not key_id.strip() or not encoded.strip():
        raise KeyConfigError(f"key entry {position} must look like 'key_id:BASE64URLKEY'")
    key_id = _check_key_id(key_id.strip())
    return key_id, decode_key_b64(encoded, label=f"key {key_id!r}")


def spec_keys(spec: str) -> list[bytes]:
    """The key bytes of every entry of a ``"kid:BASE64URLKEY[,...]"`` specification (for start-up checks)."""
    return [_parse_spec_entry(entry, n)[1] for n, entry in enumerate(spec.split(","), start=1)]


def _as_bytes(value: object, name: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be bytes, not {type(value).__name__}")


def _split_token(token: bytes) -> tuple[str, bytes, bytes, bytes]:
    """Return (key_id, header, nonce, ciphertext) or raise DecryptionError."""
    if len(token) < _MIN_TOKEN:
        raise DecryptionError("ciphertext is too short")
    if token[0] != FORMAT_V1:
        raise DecryptionError(f"unknown ciphertext format 0x{token[0]:02x}")
    id_len = token[1]
    header_len = 2 + id_len
    if not 1 <= id_len <= 16 or len(token) < header_len + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("ciphertext header is malformed")
    try:
        key_id = token[2:header_len].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("ciphertext header is malformed") from None
    if not _KEY_ID_RE.fullmatch(key_id):
        raise DecryptionError("ciphertext header is malformed")
    nonce = token[header_len : header_len + NONCE_BYTES]
    return key_id, token[:header_len], nonce, token[header_len + NONCE_BYTES :]


class Keyring:
    """Ordered named 256-bit AES-GCM keys: the first encrypts, all decrypt."""

    __slots__ = ("_ciphers", "_ids")

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        ciphers: dict[str, AESGCM] = {}
        for key_id, key in keys:
            _check_key_id(key_id)
            if key_id in ciphers:
                raise KeyConfigError(f"duplicate key id {key_id!r}")
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise KeyConfigError(f"key {key_id!r} must be exactly {KEY_BYTES} bytes (256 bits)")
            ciphers[key_id] = AESGCM(key)
        if not ciphers:
            raise KeyConfigError("the keyring is empty: configure at least one key")
        self._ciphers = ciphers
        self._ids = tuple(ciphers)

    @classmethod
    def from_spec(cls, spec: str) -> Keyring:
        """Build a keyring from ``"kid1:BASE64URLKEY,kid2:BASE64URLKEY"`` (first = primary)."""
        if not isinstance(spec, str) or not spec.strip():
            raise KeyConfigError("the key specification is empty: expected 'key_id:BASE64URLKEY[,...]'")
        return cls(_parse_spec_entry(entry, n) for n, entry in enumerate(spec.split(","), start=1))

    @property
    def primary_id(self) -> str:
        """Id of the key that encrypts."""
        return self._ids[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """All key ids, primary first."""
        return self._ids

    @property
    def is_insecure(self) -> bool:
        """True when any key id starts with "insecure" (development and test keys)."""
        return any(key_id.startswith("insecure") for key_id in self._ids)

    def __repr__(self) -> str:
        return f"Keyring(key_ids={self._ids!r})"

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> bytes:
        """Encrypt under the primary key with a fresh random nonce, bound to ``aad``."""
        plaintext, aad = _as_bytes(plaintext, "plaintext"), _as_bytes(aad, "aad")
        key_id = self.primary_id.encode("ascii")
        header = bytes((FORMAT_V1, len(key_id))) + key_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        return header + nonce + self._ciphers[self.primary_id].encrypt(nonce, plaintext, header + aad)

    def decrypt(self, token: bytes, *, aad: bytes) -> bytes:
        """Decrypt a token made by :meth:`encrypt` with the same ``aad``; raise DecryptionError otherwise."""
        token, aad = _as_bytes(token, "token"), _as_bytes(aad, "aad")
        key_id, header, nonce, ciphertext = _split_token(token)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(f"key {key_id!r} is not in the keyring")
        try:
            return cipher.decrypt(nonce, ciphertext, header + aad)
        except InvalidTag:
            raise DecryptionError("integrity check failed: wrong key, tampered, or moved ciphertext") from None

    def key_id_of(self, token: bytes) -> str:
        """Return the id of the key a token was encrypted under (without decrypting it)."""
        return _split_token(_as_bytes(token, "token"))[0]

    def needs_rotation(self, token: bytes) -> bool:
        """True when the token is not encrypted under the primary key."""
        return self.key_id_of(token) != self.primary_id

    def rotate(self, token: bytes, *, aad: bytes) -> bytes:
        """Re-encrypt a token under the primary key; return it unchanged if it already is."""
        if not self.needs_rotation(token):
            return _as_bytes(token, "token")
        return self.encrypt(self.decrypt(token, aad=aad), aad=aad)

    def wrap_key(self, data_key: bytes, *, context: str) -> bytes:
        """Encrypt a 256-bit data key (e.g. a school's DEK) under this master keyring."""
        data_key = _as_bytes(data_key, "data_key")
        if len(data_key) != KEY_BYTES:
            raise KeyConfigError(f"a data key must be exactly {KEY_BYTES} bytes")
        return self.encrypt(data_key, aad=_WRAP_AAD_PREFIX + context.encode("utf-8"))

    def unwrap_key(self, wrapped: bytes, *, context: str) -> bytes:
        """Decrypt a data key made by :meth:`wrap_key` with the same ``context``."""
        data_key = self.decrypt(wrapped, aad=_WRAP_AAD_PREFIX + context.encode("utf-8"))
        if len(data_key) != KEY_BYTES:
            raise DecryptionError("unwrapped data key has the wrong length")
        return data_key


def _aad_part(value: object, name: str) -> str:
    text = str(value)
    if not text or "|" in text or not text.isprintable():
        raise ValueError(f"{name} must be non-empty printable text without '|'")
    return text


def make_aad(table: str, column: str, row_id: str | UUID, *, school_id: str | int | None = None) -> bytes:
    """Associated data binding a ciphertext to its table, column, row (and optionally school)."""
    for name, value in (("table", table), ("column", column)):
        if not isinstance(value, str) or not _AAD_NAME_RE.fullmatch(value):
            raise ValueError(f"{name} must be an SQL identifier")
    parts = [table, column, _aad_part(row_id, "row_id")]
    if school_id is not None:
        parts.append(_aad_part(school_id, "school_id"))
    return AAD_PREFIX + b"|" + "|".join(parts).encode("utf-8")


def normalize(value: str) -> str:
    """Normalise text for a blind index: NFKC, casefold, ё→е, trimmed, inner whitespace collapsed."""
    # NFKC again after casefold: casefolding can produce sequences that are not NFKC (canonical caseless match).
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    # Russian writing often drops the diaeresis (Алёна/Алена): fold ё into е so one pupil gets one
    # index. Kazakh letters (ә ғ қ ң ө ұ ү һ і) are distinct letters and are kept as they are.
    # Stored indexes depend on this function: changing it means recomputing every index column.
    text = text.replace("ё", "е")
    return " ".join(text.split())


class BlindIndex:
    """Keyed HMAC-SHA256 index for exact lookups on encrypted values; leaks equality only."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: bytes, *, key_id: str = "") -> None:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise KeyConfigError(f"the blind-index key must be exactly {KEY_BYTES} bytes (256 bits)")
        if key_id:
            _check_key_id(key_id)
        self._key = key
        self.key_id = key_id

    @classmethod
    def from_spec(cls, spec: str) -> BlindIndex:
        """Build from ``"key_id:BASE64URLKEY"`` (one entry, same syntax as a keyring entry)."""
        if not isinstance(spec, str) or not spec.strip():
            raise KeyConfigError("the blind-index key specification is empty")
        if "," in spec:
            raise KeyConfigError("the blind-index key specification takes exactly one key")
        key_id, key = _parse_spec_entry(spec, 1)
        return cls(key, key_id=key_id)

    @property
    def is_insecure(self) -> bool:
        """True when the key id starts with "insecure" (development and test keys)."""
        return self.key_id.startswith("insecure")

    def __repr__(self) -> str:
        return f"BlindIndex(key_id={self.key_id!r})"

    def compute(self, value: str, *, scope: str = "") -> bytes:
        """Return the 16-byte index of ``normalize(value)`` within ``scope`` (e.g. "pupils.name|school:7")."""
        if "\x00" in scope:
            raise ValueError("scope must not contain NUL")
        normalized = normalize(value)
        if not normalized:
            raise ValueError("cannot index an empty value")
        message = scope.encode("utf-8") + b"\x00" + normalized.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()[:BLIND_INDEX_BYTES]
