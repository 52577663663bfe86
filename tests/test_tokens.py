"""Access tokens: issued tokens round-trip; every hostile token is refused with a safe reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jws import JWSRegistry

from authz.keys import SigningKeys, load, rotate
from authz.tokens import (
    AccessClaims,
    InvalidToken,
    TokenSettings,
    issue_access_token,
    validate_access_token,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SETTINGS = TokenSettings(issuer="http://127.0.0.1:8000", audience="groupgate")
# Keys of somebody else: right algorithm and curve, but not in our key set.
STRANGER_KEY = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)
RSA_KEY = RSAKey.generate_key(2048, auto_kid=True)


class Drop(Enum):
    """Marks a header parameter or claim that the forgery leaves out."""

    DROP = "drop"


DROP = Drop.DROP


class Signer(Enum):
    OURS = "ES256 with our current key"
    STRANGER = "ES256 with a key that is not ours"
    RSA = "RS256 with an RSA key that is not ours"
    # The algorithm-confusion attack: HMAC keyed with our *public* key's PEM bytes.
    HMAC_WITH_OUR_PUBLIC_KEY = "HS256 keyed with our public key"
    NOBODY = "empty signature"


@dataclass(frozen=True)
class Forgery:
    """A token built by hand: changes to a good header and good claims, then signed."""

    header: Mapping[str, object] = field(default_factory=dict)
    claims: Mapping[str, object] = field(default_factory=dict)
    payload: bytes | None = None  # raw payload instead of the claims
    signer: Signer = Signer.OURS


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_json(value: object) -> str:
    return b64(json.dumps(value).encode())


def changed(base: dict[str, object], changes: Mapping[str, object]) -> dict[str, object]:
    merged = {**base, **changes}
    return {name: value for name, value in merged.items() if value is not DROP}


def good_claims() -> dict[str, object]:
    issued_at = int(NOW.timestamp())
    return {
        "iss": SETTINGS.issuer,
        "aud": SETTINGS.audience,
        "sub": "user:42",
        "iat": issued_at,
        "exp": issued_at + 600,
        "jti": "forged-1",
        "scope": "members:read",
    }


def sign(signer: Signer, signing_input: bytes, our_key: ECKey) -> bytes:
    match signer:
        case Signer.OURS:
            return JWSRegistry.algorithms["ES256"].sign(signing_input, our_key)
        case Signer.STRANGER:
            return JWSRegistry.algorithms["ES256"].sign(signing_input, STRANGER_KEY)
        case Signer.RSA:
            return JWSRegistry.algorithms["RS256"].sign(signing_input, RSA_KEY)
        case Signer.HMAC_WITH_OUR_PUBLIC_KEY:
            secret = our_key.as_pem(private=False)
            return hmac.new(secret, signing_input, hashlib.sha256).digest()
        case Signer.NOBODY:
            return b""


def forge(forgery: Forgery, our_key: ECKey) -> str:
    header = changed({"alg": "ES256", "kid": our_key.kid, "typ": "at+jwt"}, forgery.header)
    payload = forgery.payload or json.dumps(changed(good_claims(), forgery.claims)).encode()
    signing_input = f"{b64_json(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(sign(forgery.signer, signing_input.encode(), our_key))}"


def decoded_header(token: str) -> object:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def refusal(token: str, key_set: KeySet, settings: TokenSettings, *, now: datetime) -> str:
    """The reason given for refusing `token`; fails the test if it is accepted or errors."""
    with pytest.raises(InvalidToken) as refused:
        validate_access_token(token, key_set, settings, now=now)
    assert str(refused.value) == refused.value.reason
    return refused.value.reason


@pytest.fixture
def keys(tmp_path: Path) -> SigningKeys:
    directory = tmp_path / "keys"
    rotate(directory)
    return load(directory)


def test_issued_token_round_trips(keys: SigningKeys) -> None:
    token = issue_access_token(
        keys, SETTINGS, subject="user:42", scope="members:read", client_id="web", now=NOW
    )

    claims = validate_access_token(token, keys.all, SETTINGS, now=NOW)

    assert claims == AccessClaims(
        subject="user:42",
        issued_at=NOW,
        expires_at=NOW + SETTINGS.access_token_ttl,
        token_id=claims.token_id,
        scope="members:read",
        client_id="web",
    )
    assert claims.token_id


def test_issued_token_names_its_key_and_type(keys: SigningKeys) -> None:
    token = issue_access_token(keys, SETTINGS, subject="user:42", now=NOW)

    assert decoded_header(token) == {"alg": "ES256", "kid": keys.current.kid, "typ": "at+jwt"}


def test_each_token_has_its_own_id(keys: SigningKeys) -> None:
    first, second = (
        validate_access_token(
            issue_access_token(keys, SETTINGS, subject="user:42", now=NOW),
            keys.all,
            SETTINGS,
            now=NOW,
        )
        for _ in range(2)
    )

    assert first.token_id != second.token_id
    assert first.client_id is None
    assert first.scope == ""


def test_the_clock_defaults_to_now(keys: SigningKeys) -> None:
    token = issue_access_token(keys, SETTINGS, subject="user:7")

    assert validate_access_token(token, keys.all, SETTINGS).subject == "user:7"


def test_expired_issued_token_is_refused(keys: SigningKeys) -> None:
    token = issue_access_token(keys, SETTINGS, subject="user:42", now=NOW)
    later = NOW + SETTINGS.access_token_ttl + SETTINGS.leeway

    assert refusal(token, keys.all, SETTINGS, now=later) == "expired"


@pytest.mark.parametrize("subject", ["42", "user:", "user:abc", "admin"])
def test_issuing_refuses_a_subject_that_would_not_validate(keys: SigningKeys, subject: str) -> None:
    with pytest.raises(ValueError, match="subject"):
        issue_access_token(keys, SETTINGS, subject=subject, now=NOW)


def test_rotation_keeps_older_tokens_valid_and_signs_with_the_new_key(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    rotate(directory, now=NOW - timedelta(days=30))
    before = load(directory)
    old_token = issue_access_token(before, SETTINGS, subject="user:42", now=NOW)

    new_key = rotate(directory, now=NOW)
    after = load(directory)
    new_token = issue_access_token(after, SETTINGS, subject="user:42", now=NOW)

    assert after.current.kid == new_key.kid != before.current.kid
    assert decoded_header(new_token) == {"alg": "ES256", "kid": new_key.kid, "typ": "at+jwt"}
    for token in (old_token, new_token):
        assert validate_access_token(token, after.all, SETTINGS, now=NOW).subject == "user:42"
    # A key dropped from the set takes its tokens with it.
    assert refusal(old_token, KeySet([after.current]), SETTINGS, now=NOW) == "unknown key"


ACCEPTED = [
    pytest.param(Forgery(claims={"exp": int(NOW.timestamp()) - 20}), id="expired within leeway"),
    pytest.param(Forgery(claims={"iat": int(NOW.timestamp()) + 20}), id="iat within leeway"),
    pytest.param(Forgery(claims={"nbf": int(NOW.timestamp()) + 20}), id="nbf within leeway"),
    pytest.param(Forgery(claims={"aud": ["billing", "groupgate"]}), id="aud list with ours"),
    pytest.param(Forgery(header={"typ": "JWT"}), id="typ JWT"),
    pytest.param(Forgery(header={"typ": DROP}), id="no typ"),
    pytest.param(Forgery(claims={"scope": DROP}), id="no scope"),
]


@pytest.mark.parametrize("forgery", ACCEPTED)
def test_acceptable_variants_validate(keys: SigningKeys, forgery: Forgery) -> None:
    token = forge(forgery, keys.current)

    assert validate_access_token(token, keys.all, SETTINGS, now=NOW).subject == "user:42"


AN_HOUR_AGO = int(NOW.timestamp()) - 3600
LEEWAY_EDGE = int(NOW.timestamp()) - 30
TOO_EARLY = int(NOW.timestamp()) + 31

HOSTILE = [
    # header: algorithm
    pytest.param(
        Forgery(header={"alg": "none"}, signer=Signer.NOBODY), "malformed", id="alg none unsigned"
    ),
    pytest.param(Forgery(header={"alg": "none"}), "unsupported algorithm", id="alg none signed"),
    pytest.param(
        Forgery(header={"alg": "HS256"}, signer=Signer.HMAC_WITH_OUR_PUBLIC_KEY),
        "unsupported algorithm",
        id="HS256 keyed with our public key",
    ),
    pytest.param(
        Forgery(header={"alg": "RS256"}, signer=Signer.RSA),
        "unsupported algorithm",
        id="RS256 not allowed",
    ),
    pytest.param(Forgery(header={"alg": DROP}), "unsupported algorithm", id="no alg"),
    pytest.param(Forgery(header={"alg": ["ES256"]}), "unsupported algorithm", id="alg list"),
    # header: key id
    pytest.param(Forgery(header={"kid": DROP}), "missing key id", id="no kid"),
    pytest.param(Forgery(header={"kid": ""}), "missing key id", id="empty kid"),
    pytest.param(Forgery(header={"kid": 7}), "missing key id", id="kid number"),
    pytest.param(Forgery(header={"kid": "no-such-key"}), "unknown key", id="unknown kid"),
    pytest.param(Forgery(header={"kid": "../../../../etc/passwd"}), "unknown key", id="kid path"),
    pytest.param(
        Forgery(header={"kid": "' OR '1'='1'; DROP TABLE keys; --"}), "unknown key", id="kid sql"
    ),
    pytest.param(Forgery(header={"kid": "k" * 4000}), "unknown key", id="kid very long"),
    pytest.param(Forgery(header={"kid": "\x00\n\r"}), "unknown key", id="kid control chars"),
    # header: the sender tries to choose the verification key, or an extension
    pytest.param(
        Forgery(header={"jwk": STRANGER_KEY.as_dict(private=False)}, signer=Signer.STRANGER),
        "unsupported header",
        id="embedded jwk",
    ),
    pytest.param(
        Forgery(header={"jku": "https://attacker.example/jwks.json"}, signer=Signer.STRANGER),
        "unsupported header",
        id="jku",
    ),
    pytest.param(
        Forgery(header={"x5u": "https://attacker.example/cert.pem"}, signer=Signer.STRANGER),
        "unsupported header",
        id="x5u",
    ),
    pytest.param(Forgery(header={"x5c": ["MIIB"]}), "unsupported header", id="x5c"),
    pytest.param(Forgery(header={"crit": ["exp"]}), "unsupported header", id="crit"),
    pytest.param(
        Forgery(header={"b64": False, "crit": ["b64"]}), "unsupported header", id="crit b64"
    ),
    pytest.param(Forgery(header={"typ": "id_token"}), "unsupported token type", id="typ other"),
    pytest.param(Forgery(header={"typ": ["JWT"]}), "unsupported token type", id="typ list"),
    # signature
    pytest.param(Forgery(signer=Signer.STRANGER), "bad signature", id="other key with our kid"),
    pytest.param(Forgery(signer=Signer.NOBODY), "malformed", id="ES256 without signature"),
    # payload (signed by us, so only our own bug could produce it)
    pytest.param(Forgery(payload=b"not json"), "malformed", id="payload not json"),
    pytest.param(Forgery(payload=b"[1, 2]"), "malformed", id="payload json list"),
    # claims: audience, issuer, times
    pytest.param(Forgery(claims={"aud": "other-api"}), "invalid claim: aud", id="other audience"),
    pytest.param(
        Forgery(claims={"aud": ["other-api", "billing"]}),
        "invalid claim: aud",
        id="aud list without ours",
    ),
    pytest.param(
        Forgery(claims={"iss": "https://attacker.example"}), "invalid claim: iss", id="other issuer"
    ),
    pytest.param(Forgery(claims={"exp": AN_HOUR_AGO}), "expired", id="expired"),
    pytest.param(Forgery(claims={"exp": LEEWAY_EDGE}), "expired", id="expired at leeway edge"),
    pytest.param(Forgery(claims={"iat": TOO_EARLY}), "invalid claim: iat", id="iat future"),
    pytest.param(Forgery(claims={"nbf": TOO_EARLY}), "invalid claim: nbf", id="nbf future"),
    pytest.param(Forgery(claims={"exp": "tomorrow"}), "invalid claim: exp", id="exp text"),
    pytest.param(Forgery(claims={"exp": True}), "invalid claim: exp", id="exp boolean"),
    pytest.param(Forgery(claims={"exp": 10**30}), "invalid claim: exp", id="exp beyond calendar"),
    pytest.param(Forgery(claims={"jti": ""}), "invalid claim: jti", id="jti empty"),
    pytest.param(Forgery(claims={"scope": 5}), "invalid claim: scope", id="scope number"),
    pytest.param(
        Forgery(claims={"client_id": 5}), "invalid claim: client_id", id="client_id number"
    ),
    # claims: subject
    *[
        pytest.param(Forgery(claims={"sub": subject}), "invalid claim: sub", id=f"sub {subject!r}")
        for subject in [
            "admin",
            "user:",
            "user:4a2",
            "user:-1",
            "user: 42",
            "User:42",
            "user:٤٢",
            42,
        ]
    ],
    # claims: every required one
    *[
        pytest.param(Forgery(claims={name: DROP}), f"missing claim: {name}", id=f"no {name}")
        for name in ["exp", "iat", "iss", "aud", "sub", "jti"]
    ],
]


@pytest.mark.parametrize(("forgery", "reason"), HOSTILE)
def test_hostile_token_is_refused(keys: SigningKeys, forgery: Forgery, reason: str) -> None:
    token = forge(forgery, keys.current)

    assert refusal(token, keys.all, SETTINGS, now=NOW) == reason


def test_listed_algorithm_does_not_unlock_a_key_made_for_another(keys: SigningKeys) -> None:
    settings = replace(SETTINGS, algorithms=("ES256", "RS256"))
    token = forge(Forgery(header={"alg": "RS256"}, signer=Signer.RSA), keys.current)

    assert refusal(token, keys.all, settings, now=NOW) == "unknown key"


def test_tampered_payload_is_refused(keys: SigningKeys) -> None:
    header, _, signed = issue_access_token(keys, SETTINGS, subject="user:42", now=NOW).split(".")
    promoted = b64_json({**good_claims(), "sub": "user:1", "scope": "admin"})

    assert refusal(f"{header}.{promoted}.{signed}", keys.all, SETTINGS, now=NOW) == "bad signature"


NESTED = "[" * 3000 + "]" * 3000
NOT_UTF8 = b64(b"\xff\xfe\x00")

MALFORMED = [
    pytest.param("", id="empty"),
    pytest.param("abc", id="one part"),
    pytest.param("abc.def", id="two parts"),
    pytest.param("a.b.c.d", id="four parts"),
    pytest.param("..", id="empty parts"),
    pytest.param("abc..def", id="empty payload"),
    pytest.param("ab+c.de/f.gh=", id="base64 not url-safe"),
    pytest.param("a.bcde.fghi", id="base64 bad length"),
    pytest.param("é.é.é", id="non-ascii"),
    pytest.param(f"{b64(b'not json')}.e30.c2ln", id="header not json"),
    pytest.param(f"{NOT_UTF8}.e30.c2ln", id="header not utf-8"),
    pytest.param(f"{b64_json(['alg'])}.e30.c2ln", id="header json list"),
    pytest.param(f"{b64_json('alg')}.e30.c2ln", id="header json string"),
    pytest.param(f"{b64_json(None)}.e30.c2ln", id="header json null"),
    pytest.param(f"{b64(NESTED.encode())}.e30.c2ln", id="header deeply nested"),
    pytest.param("a" * 9000, id="huge"),
    pytest.param(f"{'a' * 4000}.{'b' * 4000}.{'c' * 200}", id="huge three parts"),
]


@pytest.mark.parametrize("token", MALFORMED)
def test_malformed_token_is_refused(keys: SigningKeys, token: str) -> None:
    assert refusal(token, keys.all, SETTINGS, now=NOW) == "malformed"


def test_surrounding_text_is_refused(keys: SigningKeys) -> None:
    token = issue_access_token(keys, SETTINGS, subject="user:42", now=NOW)

    for wrapped in (f"Bearer {token}", f"{token}\n", f" {token}"):
        assert refusal(wrapped, keys.all, SETTINGS, now=NOW) == "malformed"


@pytest.mark.parametrize(
    "make_settings",
    [
        pytest.param(lambda: replace(SETTINGS, leeway=timedelta(seconds=61)), id="leeway 61 s"),
        pytest.param(lambda: replace(SETTINGS, leeway=timedelta(seconds=-1)), id="leeway negative"),
        pytest.param(lambda: replace(SETTINGS, access_token_ttl=timedelta(0)), id="no lifetime"),
        pytest.param(lambda: replace(SETTINGS, algorithms=()), id="no algorithm"),
        pytest.param(lambda: replace(SETTINGS, algorithms=("none",)), id="alg none"),
        pytest.param(lambda: replace(SETTINGS, algorithms=("ES256", "HS256")), id="HS256"),
        pytest.param(lambda: replace(SETTINGS, algorithms=("HS512",)), id="HS512"),
    ],
)
def test_unsafe_settings_are_refused(make_settings: Callable[[], TokenSettings]) -> None:
    with pytest.raises(ValueError, match=r"leeway|access_token_ttl|algorithms"):
        make_settings()


def test_a_minute_of_leeway_is_allowed() -> None:
    settings = replace(SETTINGS, leeway=timedelta(seconds=60))

    assert settings.leeway == timedelta(seconds=60)


# Hypothesis cannot use the function-scoped `keys` fixture: these properties use a key of their
# own, built in memory.
PROPERTY_KEY = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)
PROPERTY_KEYS = KeySet([PROPERTY_KEY])
PROPERTY_HEADER = b64_json({"alg": "ES256", "kid": PROPERTY_KEY.kid, "typ": "at+jwt"})
BASE64URL_AND_DOTS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
)


@given(st.text() | st.binary().map(lambda data: data.decode("latin-1")))
def test_arbitrary_text_is_refused_with_invalid_token_only(text: str) -> None:
    refusal(text, PROPERTY_KEYS, SETTINGS, now=NOW)


@given(payload=BASE64URL_AND_DOTS, signature=BASE64URL_AND_DOTS)
def test_arbitrary_payload_under_our_header_is_refused(payload: str, signature: str) -> None:
    refusal(f"{PROPERTY_HEADER}.{payload}.{signature}", PROPERTY_KEYS, SETTINGS, now=NOW)
