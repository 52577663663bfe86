"""Passwords: argon2id hashes (argon2-cffi's RFC 9106 parameters) and the password rules.

Hashing and verifying take a deliberate fraction of a second of CPU: async callers run them in
a worker thread (`anyio.to_thread.run_sync`).
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
# Hashing cost grows with the input; nobody types more than this.
MAX_PASSWORD_LENGTH = 256

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches. Without a hash (unknown user, password never set) a dummy
    hash is verified all the same, so that the answer takes as long as for a real account."""
    if password_hash is None:
        _verify(_dummy_hash(), password)
        return False
    return _verify(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's: rehash on sign-in."""
    return _HASHER.check_needs_rehash(password_hash)


def password_problem(password: str, email: str) -> str | None:
    """Why the password may not be chosen, or None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must have at most {MAX_PASSWORD_LENGTH} characters."
    if password.strip().lower() == email.strip().lower():
        return "The password must not be your e-mail address."
    return None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    # Made on first use, not at import: hashing costs as much as verifying.
    return _HASHER.hash(secrets.token_urlsafe(16))
