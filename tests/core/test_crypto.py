"""Field encryption, key rotation, key wrapping and blind indexes (security.md §3.9, §7 D)."""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.crypto import (
    AAD_PREFIX,
    BlindIndex,
    DecryptionError,
    KeyConfigError,
    Keyring,
    decode_key_b64,
    generate_key,
    generate_key_b64,
    make_aad,
    normalize,
)

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
ROW_A = "4f1c2b9e-0000-4000-8000-00000000000a"
ROW_B = "4f1c2b9e-0000-4000-8000-00000000000b"
AAD_A = make_aad("pupils", "name", ROW_A)


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def ring(*ids: str) -> Keyring:
    keys = {"k1": K1, "k2": K2}
    return Keyring((kid, keys[kid]) for kid in ids)


# --- round trip and binding ---------------------------------------------------------------


@settings(database=None, max_examples=300)
@given(plaintext=st.one_of(st.binary(max_size=2048), st.text(max_size=300).map(str.encode)), row=st.uuids())
def test_round_trip_arbitrary_bytes_and_text(plaintext: bytes, row: uuid.UUID) -> None:
    aad = make_aad("monitoring_cases", "note", row)
    assert ring("k1").decrypt(ring("k1").encrypt(plaintext, aad=aad), aad=aad) == plaintext


@pytest.mark.parametrize(
    "other_aad",
    [
        make_aad("pupils", "name", ROW_B),  # another row
        make_aad("pupils", "iin", ROW_A),  # another column
        make_aad("staff", "name", ROW_A),  # another table
        make_aad("pupils", "name", ROW_A, school_id=7),  # school added
        b"",
    ],
)
def test_ciphertext_moved_to_another_aad_fails(other_aad: bytes) -> None:
    token = ring("k1").encrypt(b"Aigerim", aad=AAD_A)
    with pytest.raises(DecryptionError):
        ring("k1").decrypt(token, aad=other_aad)


@settings(database=None)
@given(plaintext=st.binary(max_size=64), aad=st.binary(max_size=64), other=st.binary(max_size=64))
def test_any_other_aad_fails(plaintext: bytes, aad: bytes, other: bytes) -> None:
    token = ring("k1").encrypt(plaintext, aad=aad)
    if other == aad:
        assert ring("k1").decrypt(token, aad=other) == plaintext
    else:
        with pytest.raises(DecryptionError):
            ring("k1").decrypt(token, aad=other)


def test_school_moves_are_detected() -> None:
    token = ring("k1").encrypt(b"note", aad=make_aad("monitoring_cases", "note", ROW_A, school_id=1))
    with pytest.raises(DecryptionError):
        ring("k1").decrypt(token, aad=make_aad("monitoring_cases", "note", ROW_A, school_id=2))


def test_format() -> None:
    token = ring("k1").encrypt(b"abc", aad=AAD_A)
    assert token[0] == 0x01
    assert token[1] == 2 and token[2:4] == b"k1"
    assert len(token) == 4 + 12 + 3 + 16
    assert b"abc" not in token


def test_every_byte_is_authenticated() -> None:
    token = ring("k1").encrypt(b"ZZ-SECRET-NOTE", aad=AAD_A)
    for i in range(len(token)):
        tampered = bytearray(token)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionError):
            ring("k1").decrypt(bytes(tampered), aad=AAD_A)


@pytest.mark.parametrize(
    "token",
    [
        b"",
        b"\x01",
        b"\x02\x02k1" + bytes(40),
        b"\x01\x00" + bytes(40),
        b"\x01\x11" + bytes(60),
        b"\x01\x02\xff\xfe" + bytes(40),
    ],
)
def test_malformed_tokens_raise_decryption_error(token: bytes) -> None:
    with pytest.raises(DecryptionError):
        ring("k1").decrypt(token, aad=AAD_A)


def test_truncated_token_fails() -> None:
    token = ring("k1").encrypt(b"abc", aad=AAD_A)
    for end in range(len(token)):
        with pytest.raises(DecryptionError):
            ring("k1").decrypt(token[:end], aad=AAD_A)


def test_nonces_are_unique() -> None:
    keyring = ring("k1")
    nonces = {keyring.encrypt(b"", aad=b"x")[4:16] for _ in range(100_000)}
    assert len(nonces) == 100_000


def test_bytes_like_accepted_str_refused() -> None:
    token = ring("k1").encrypt(b"abc", aad=AAD_A)
    assert ring("k1").decrypt(memoryview(token), aad=AAD_A) == b"abc"  # what some DB drivers return
    with pytest.raises(TypeError):
        ring("k1").encrypt("abc", aad=AAD_A)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring("k1").encrypt(b"abc", aad="pupils|name")  # type: ignore[arg-type]


# --- rotation ---------------------------------------------------------------------------------


def test_rotation_old_key_still_decrypts() -> None:
    old = ring("k1").encrypt(b"note", aad=AAD_A)
    rotated_ring = ring("k2", "k1")
    assert rotated_ring.key_id_of(old) == "k1"
    assert rotated_ring.decrypt(old, aad=AAD_A) == b"note"
    new = rotated_ring.encrypt(b"note", aad=AAD_A)
    assert rotated_ring.key_id_of(new) == "k2" == rotated_ring.primary_id


def test_rotate_reencrypts_under_primary() -> None:
    old = ring("k1").encrypt(b"note", aad=AAD_A)
    rotated_ring = ring("k2", "k1")
    assert rotated_ring.needs_rotation(old)
    new = rotated_ring.rotate(old, aad=AAD_A)
    assert not rotated_ring.needs_rotation(new)
    assert rotated_ring.rotate(new, aad=AAD_A) == new  # idempotent
    assert ring("k2").decrypt(new, aad=AAD_A) == b"note"  # works with k1 removed


def test_rotate_refuses_wrong_aad() -> None:
    old = ring("k1").encrypt(b"note", aad=AAD_A)
    with pytest.raises(DecryptionError):
        ring("k2", "k1").rotate(old, aad=make_aad("pupils", "name", ROW_B))


def test_unknown_key_or_id_fails() -> None:
    token = ring("k1").encrypt(b"note", aad=AAD_A)
    with pytest.raises(DecryptionError, match="'k1' is not in the keyring"):
        ring("k2").decrypt(token, aad=AAD_A)
    with pytest.raises(DecryptionError, match="integrity"):  # same id, another key
        Keyring([("k1", K2)]).decrypt(token, aad=AAD_A)


# --- key wrapping --------------------------------------------------------------------------------


def test_wrap_and_unwrap_data_key() -> None:
    dek = generate_key()
    wrapped = ring("k1").wrap_key(dek, context="school:7:v1")
    assert dek not in wrapped
    assert ring("k2", "k1").unwrap_key(wrapped, context="school:7:v1") == dek
    with pytest.raises(DecryptionError):
        ring("k1").unwrap_key(wrapped, context="school:8:v1")
    school_ring = Keyring([("s7v1", dek)])
    assert school_ring.decrypt(school_ring.encrypt(b"x", aad=AAD_A), aad=AAD_A) == b"x"


def test_wrapped_key_cannot_pass_as_field_ciphertext() -> None:
    wrapped = ring("k1").wrap_key(generate_key(), context="school")
    with pytest.raises(DecryptionError):
        ring("k1").decrypt(wrapped, aad=b"senim|v1|key-wrap|")


def test_wrap_key_refuses_wrong_length() -> None:
    with pytest.raises(KeyConfigError):
        ring("k1").wrap_key(b"short", context="school:1")


# --- key configuration ------------------------------------------------------------------------------


def test_from_spec_orders_keys() -> None:
    keyring = Keyring.from_spec(f" k2:{b64(K2)} , k1:{b64(K1)}")
    assert keyring.primary_id == "k2"
    assert keyring.key_ids == ("k2", "k1")
    assert not keyring.is_insecure
    assert keyring.decrypt(ring("k1").encrypt(b"x", aad=b"a"), aad=b"a") == b"x"


def test_from_spec_accepts_unpadded_and_standard_base64() -> None:
    key = bytes([0xFB] * 32)  # encodes with "+" and "/" in standard base64
    standard = base64.b64encode(key).decode()
    assert "+" in standard or "/" in standard
    for text in (standard, b64(key), b64(key).rstrip("=")):
        assert decode_key_b64(text) == key


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("k1", "key_id:BASE64URLKEY"),
        ("k1:", "key_id:BASE64URLKEY"),
        (f":{b64(K1)}", "key_id:BASE64URLKEY"),
        (f"k1:{b64(K1)},", "key entry 2"),
        (f"k1:{b64(K1)},k1:{b64(K2)}", "duplicate key id 'k1'"),
        (f"k1:{b64(K1[:16])}", "exactly 32 bytes"),
        (f"k1:{b64(K1 + b'x')}", "exactly 32 bytes"),
        ("k1:not*base64", "not base64url"),
        ("k1:abcde", "not valid base64url"),
        (f"key id:{b64(K1)}", "1-16 characters"),
        (f"{'k' * 17}:{b64(K1)}", "1-16 characters"),
        (f"ключ:{b64(K1)}", "1-16 characters"),
    ],
)
def test_bad_specs_give_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message):
        Keyring.from_spec(spec)


def test_errors_and_repr_never_show_key_material() -> None:
    secret = b64(K1[:16])
    with pytest.raises(KeyConfigError) as excinfo:
        Keyring.from_spec(f"k1:{secret}")
    assert secret not in str(excinfo.value)
    assert b64(K1) not in repr(Keyring.from_spec(f"k1:{b64(K1)}"))
    assert "k1" in repr(Keyring.from_spec(f"k1:{b64(K1)}"))


def test_constructor_checks() -> None:
    with pytest.raises(KeyConfigError, match="empty"):
        Keyring([])
    with pytest.raises(KeyConfigError, match="exactly 32 bytes"):
        Keyring([("k1", b"x" * 16)])


def test_insecure_keys_are_marked() -> None:
    assert Keyring.from_spec(f"k2:{b64(K2)},insecure-dev1:{b64(K1)}").is_insecure
    assert Keyring.from_spec(f"insecure:{b64(K1)}").is_insecure


def test_generated_keys_parse() -> None:
    text = generate_key_b64()
    assert len(decode_key_b64(text)) == 32
    assert generate_key_b64() != text
    assert Keyring.from_spec(f"k1:{text}").primary_id == "k1"


# --- associated data -------------------------------------------------------------------------------


def test_make_aad() -> None:
    row = uuid.UUID(ROW_A)
    assert make_aad("pupils", "name", row) == f"senim|v1|pupils|name|{ROW_A}".encode()
    assert make_aad("pupils", "name", ROW_A, school_id=12) == f"senim|v1|pupils|name|{ROW_A}|12".encode()
    assert make_aad("pupils", "name", ROW_A).startswith(AAD_PREFIX)


@pytest.mark.parametrize(
    ("table", "column", "row_id"),
    [
        ("pupils|x", "name", ROW_A),
        ("pupils", "na me", ROW_A),
        ("pupils", "name", ""),
        ("pupils", "name", "a|b"),
        ("", "name", ROW_A),
        ("pupils", "name", "a\nb"),
    ],
)
def test_make_aad_refuses_ambiguous_parts(table: str, column: str, row_id: str) -> None:
    with pytest.raises(ValueError):
        make_aad(table, column, row_id)


# --- blind index ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Айгерим   СЕРІКБАЕВА ", "айгерим серікбаева"),
        ("Алёна", "алена"),
        ("АЛЁНА", "алена"),
        ("Але\u0308на", "алена"),  # е + combining diaeresis
        ("Әсел Қайратқызы", "әсел қайратқызы"),
        ("ӨҢҒҮҰҺІ", "өңғүұһі"),
        ("\uff33\uff45\uff52\uff49\uff4b", "serik"),  # fullwidth letters (NFKC)
        ("Nur\u00a0Sultan\tQyzy", "nur sultan qyzy"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_kazakh_letters_are_not_folded_into_russian() -> None:
    assert normalize("Өмір") != normalize("Омир")
    assert normalize("Ұлан") != normalize("Улан")
    assert normalize("Ілияс") != normalize("Илияс")


def test_blind_index_matches_normalised_values() -> None:
    index = BlindIndex(K1)
    assert index.compute("  айгерим  СЕРІКБАЕВА ") == index.compute("Айгерим Серікбаева")
    assert index.compute("Алёна") == index.compute("алена")
    assert len(index.compute("x")) == 16
    assert index.compute("Айгерим") != index.compute("Айгерима")


def test_blind_index_is_keyed_and_scoped() -> None:
    assert BlindIndex(K1).compute("Айгерим") != BlindIndex(K2).compute("Айгерим")
    index = BlindIndex(K1)
    assert index.compute("Айгерим", scope="pupils.name|school:1") != index.compute(
        "Айгерим", scope="pupils.name|school:2"
    )
    assert index.compute("Айгерим", scope="pupils.name") != index.compute("Айгерим", scope="pupils.surname")


def test_blind_index_checks() -> None:
    with pytest.raises(KeyConfigError):
        BlindIndex(b"short")
    with pytest.raises(ValueError):
        BlindIndex(K1).compute("   ")
    with pytest.raises(ValueError):
        BlindIndex(K1).compute("x", scope="a\x00b")


def test_blind_index_from_spec() -> None:
    index = BlindIndex.from_spec(f"insecure-bidx:{b64(K1)}")
    assert index.is_insecure and index.key_id == "insecure-bidx"
    assert index.compute("x") == BlindIndex(K1).compute("x")
    assert b64(K1) not in repr(index)
    with pytest.raises(KeyConfigError):
        BlindIndex.from_spec(f"a:{b64(K1)},b:{b64(K2)}")
    with pytest.raises(KeyConfigError):
        BlindIndex.from_spec("")


@settings(database=None)
@given(value=st.text(max_size=60))
def test_normalize_is_idempotent(value: str) -> None:
    assert normalize(normalize(value)) == normalize(value)
