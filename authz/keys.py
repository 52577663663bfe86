"""Token-signing keys: one JWK file per key in a directory; the newest signs, all verify.

Rotation adds a key and keeps the old ones published, so nobody is signed out by it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet

SIGNING_ALGORITHM = "ES256"


@dataclass(frozen=True, slots=True)
class SigningKeys:
    current: ECKey
    all: KeySet

    def public_jwks(self) -> dict[str, Any]:
        return dict(self.all.as_dict(private=False))


def rotate(directory: Path, now: datetime | None = None) -> ECKey:
    """Create a new P-256 key in `directory`; from now on it signs. Returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key(
        "P-256", parameters={"alg": SIGNING_ALGORITHM, "use": "sig"}, auto_kid=True
    )
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{stamp}-{key.kid}.json"
    # The private key is readable by its owner only.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(key.as_dict(private=True), file)
    return key


def load(directory: Path) -> SigningKeys:
    """Every key in the directory, the newest (by file name) current. Raises if there is none."""
    paths = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not paths:
        raise FileNotFoundError(f"no signing key in {directory}")
    keys = [ECKey.import_key(json.loads(path.read_text())) for path in paths]
    return SigningKeys(current=keys[-1], all=KeySet(list(keys)))


def load_or_create(directory: Path) -> SigningKeys:
    """Development convenience: make the first key when there is none."""
    if not directory.is_dir() or not any(directory.glob("*.json")):
        rotate(directory)
    return load(directory)
