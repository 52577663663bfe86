"""Normal forms used for search and matching: names without case or accents, keyed SSN hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_SSN = re.compile(r"^\d{3}-?\d{2}-?\d{4}$")


def name_key(name: str) -> str:
    """Lower-case, accents stripped, spacing collapsed: 'José  DE la Cruz' → 'jose de la cruz'."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def is_ssn(value: str) -> bool:
    """Nine digits, with or without the usual dashes."""
    return _SSN.match(value) is not None


def ssn_digits(value: str) -> str:
    if not is_ssn(value):
        raise ValueError("an SSN has nine digits, as 123-45-6789 or 123456789")
    return value.replace("-", "")


def ssn_hash(value: str, key: bytes) -> str:
    """Keyed hash of an SSN: equal SSNs match; without the key it cannot be brute-forced."""
    return hmac.new(key, ssn_digits(value).encode(), hashlib.sha256).hexdigest()


def ssn_last4(value: str) -> str:
    return ssn_digits(value)[-4:]
