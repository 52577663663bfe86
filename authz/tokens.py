"""Access tokens: ES256-signed JWTs (RFC 9068 profile) that we issue and check ourselves.

Validation is strict and pure computation. Every refusal is an `InvalidToken` carrying a short
reason fit for a `WWW-Authenticate` error_description; the reason never echoes the token.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet

from authz.keys import SIGNING_ALGORITHM, SigningKeys

ACCESS_JWT_TYPE = "at+jwt"
ACCEPTED_JWT_TYPES = frozenset({ACCESS_JWT_TYPE, "JWT"})
# Anything else (jwk, jku, x5u, x5c, crit, b64, ...) either lets the sender choose the key or
# is an extension we would have to honour; our own tokens never carry it.
ACCEPTED_HEADER_NAMES = frozenset({"alg", "kid", "typ"})
MAX_TOKEN_LENGTH = 8 * 1024
MAX_LEEWAY = timedelta(seconds=60)

# Three non-empty base64url segments; refusing anything else up front keeps odd input away
# from the JOSE library.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# ASCII digits only: `\d` would also accept other scripts' digits.
_SUBJECT = re.compile(r"user:[0-9]+")
_EXTERNAL_SUBJECT = re.compile(r"[\x21-\x7e]{1,255}")


class InvalidToken(Exception):
    """The token is refused; `reason` is short and safe to send back to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenSettings:
    issuer: str
    audience: str
    access_token_ttl: timedelta = timedelta(minutes=10)
    leeway: timedelta = timedelta(seconds=30)
    algorithms: tuple[str, ...] = (SIGNING_ALGORITHM,)
    # Tokens of an external identity provider: any subject (mapped to a user afterwards),
    # no `jti` required, and a verified e-mail claim passed on for that mapping.
    external: bool = False

    def __post_init__(self) -> None:
        if self.access_token_ttl <= timedelta(0):
            raise ValueError("access_token_ttl must be positive")
        # Leeway absorbs clock skew; more than a minute would quietly extend every token.
        if not timedelta(0) <= self.leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY.seconds} seconds")
        if not self.algorithms:
            raise ValueError("algorithms must name at least one algorithm")
        # "none" needs no key, and HS* would verify with our public key bytes as the secret.
        if any(name == "none" or name.startswith("HS") for name in self.algorithms):
            raise ValueError("algorithms may only name asymmetric signature algorithms")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    issued_at: datetime
    expires_at: datetime
    token_id: str | None
    scope: str
    client_id: str | None
    verified_email: str | None = None


def issue_access_token(
    keys: SigningKeys,
    settings: TokenSettings,
    *,
    subject: str,
    scope: str = "",
    client_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """A signed access token for `subject` ("user:<id>"), signed by the current key."""
    if not _SUBJECT.fullmatch(subject):
        raise ValueError("subject must look like 'user:<digits>'")
    kid = keys.current.kid
    if kid is None:
        raise ValueError("the current signing key has no kid")
    issued_at = int((now or datetime.now(UTC)).timestamp())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject,
        "iat": issued_at,
        "exp": issued_at + int(settings.access_token_ttl.total_seconds()),
        "jti": secrets.token_urlsafe(16),
        "scope": scope,
    }
    if client_id is not None:
        claims["client_id"] = client_id
    header = {"alg": SIGNING_ALGORITHM, "kid": kid, "typ": ACCESS_JWT_TYPE}
    return jwt.encode(header, claims, keys.current, algorithms=[SIGNING_ALGORITHM])


def validate_access_token(
    token: str, key_set: KeySet, settings: TokenSettings, *, now: datetime | None = None
) -> AccessClaims:
    """The token's claims, or `InvalidToken` for anything we did not issue or no longer accept."""
    if len(token) > MAX_TOKEN_LENGTH or not _COMPACT_JWS.fullmatch(token):
        raise InvalidToken("malformed")
    header = _decode_header(token.split(".", 1)[0])
    key = _verification_key(header, key_set, settings)
    try:
        # Verifies the signature only; the claims are checked below.
        decoded = jwt.decode(token, key, algorithms=list(settings.algorithms))
    except BadSignatureError:
        raise InvalidToken("bad signature") from None
    except JoseError:
        # `from None`: the library's message can quote attacker-chosen text.
        raise InvalidToken("malformed") from None
    return _check_claims(decoded.claims, settings, now or datetime.now(UTC))


def _decode_header(segment: str) -> dict[str, Any]:
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError):
        raise InvalidToken("malformed") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed")
    return header


def _verification_key(header: dict[str, Any], key_set: KeySet, settings: TokenSettings) -> Key:
    """The one key named by `kid` that may verify this token: never a key the sender supplies."""
    if not header.keys() <= ACCEPTED_HEADER_NAMES:
        raise InvalidToken("unsupported header")
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in settings.algorithms:
        raise InvalidToken("unsupported algorithm")
    jwt_type = header.get("typ", ACCESS_JWT_TYPE)
    if not isinstance(jwt_type, str) or jwt_type not in ACCEPTED_JWT_TYPES:
        raise InvalidToken("unsupported token type")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("missing key id")
    try:
        # Filtering on alg too: a kid of ours under another algorithm names no key of ours.
        return key_set.get_by_kid(kid, {"alg": algorithm, "use": "sig"})
    except InvalidKeyIdError:
        raise InvalidToken("unknown key") from None


def _check_claims(claims: dict[str, Any], settings: TokenSettings, now: datetime) -> AccessClaims:
    # joserfc's `jwt.decode` checks no claim at all: this registry is what enforces them.
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=int(settings.leeway.total_seconds()),
        iss={"essential": True, "value": settings.issuer},
        aud={"essential": True, "value": settings.audience},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        jti={"essential": not settings.external},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise InvalidToken("expired") from None
    # The claim names in these errors are registered names, never the token's own text.
    except MissingClaimError as error:
        raise InvalidToken(f"missing claim: {error.claim}") from None
    except InvalidClaimError as error:
        raise InvalidToken(f"invalid claim: {error.claim}") from None
    subject, scope, client_id = claims["sub"], claims.get("scope", ""), claims.get("client_id")
    if not (_EXTERNAL_SUBJECT if settings.external else _SUBJECT).fullmatch(str(subject)):
        raise InvalidToken("invalid claim: sub")
    if not isinstance(scope, str):
        raise InvalidToken("invalid claim: scope")
    if client_id is not None and not isinstance(client_id, str):
        raise InvalidToken("invalid claim: client_id")
    return AccessClaims(
        subject=subject,
        issued_at=_instant(claims, "iat"),
        expires_at=_instant(claims, "exp"),
        token_id=claims.get("jti"),
        scope=scope,
        client_id=client_id,
        verified_email=_verified_email(claims) if settings.external else None,
    )


def _verified_email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if claims.get("email_verified") is True and isinstance(email, str) and len(email) <= 320:
        return email.lower()
    return None


def _instant(claims: dict[str, Any], name: str) -> datetime:
    try:
        return datetime.fromtimestamp(claims[name], UTC)
    except (OverflowError, OSError, ValueError):
        # A NumericDate far outside the calendar: passes the checks, names no real instant.
        raise InvalidToken(f"invalid claim: {name}") from None
