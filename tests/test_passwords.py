"""Passwords: argon2id hashes, rehash detection, and the rules for choosing one."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from authz.passwords import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


def test_hashes_are_argon2id_and_salted(stored: str) -> None:
    assert stored.startswith("$argon2id$")
    assert hash_password(PASSWORD) != stored


@pytest.mark.parametrize(
    ("password_hash", "password", "expected"),
    [
        ("stored", PASSWORD, True),
        ("stored", PASSWORD + " ", False),
        ("stored", PASSWORD.upper(), False),
        ("stored", "", False),
        # No hash (unknown user, password never set): verified against a dummy, never True.
        (None, PASSWORD, False),
        (None, "", False),
        ("not an argon2 hash", PASSWORD, False),
    ],
)
def test_verify(stored: str, password_hash: str | None, password: str, expected: bool) -> None:
    real_hash = stored if password_hash == "stored" else password_hash
    assert verify_password(real_hash, password) is expected


def test_a_hash_with_other_parameters_needs_rehash(stored: str) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    old_hash = weaker.hash(PASSWORD)
    assert verify_password(old_hash, PASSWORD)
    assert needs_rehash(old_hash)
    assert not needs_rehash(stored)


@pytest.mark.parametrize(
    ("password", "email", "refused"),
    [
        ("a" * 11, "ann@example.com", "at least 12 characters"),
        ("a" * 12, "ann@example.com", None),
        ("x" * MAX_PASSWORD_LENGTH, "ann@example.com", None),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "ann@example.com", "at most"),
        ("ann.lee@example.com", "ann.lee@example.com", "not be your e-mail"),
        ("ANN.LEE@example.COM", "ann.lee@example.com", "not be your e-mail"),
        ("ann.lee@example.com!", "ann.lee@example.com", None),
    ],
)
def test_password_rules(password: str, email: str, refused: str | None) -> None:
    problem = password_problem(password, email)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None
        assert refused in problem
