"""Token verification rules, without a database."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from podium.auth import tokens
from podium.auth.models import Tenant
from podium.errors import Unauthorized
from tests.conftest import ES_PRIVATE, ES_TENANT, TENANT, tenant

HS = tenant(TENANT)
ES = tenant(ES_TENANT)


def claims(**over: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": HS.issuer,
        "aud": HS.audience,
        "sub": "alice",
        "iat": now,
        "exp": now + 60,
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def code_of(token: str, t: Tenant = HS) -> str:
    with pytest.raises(Unauthorized) as info:
        tokens.verify(token, t)
    return info.value.code


def test_a_service_token_and_an_end_user_token() -> None:
    service = tokens.verify(tokens.mint(HS, "service", 60), HS)
    assert service.is_service and service.audience == "example.org"
    user = tokens.verify(tokens.mint(HS, "alice", 60), HS)
    assert not user.is_service and user.account_id == "alice"


def test_es256_tokens_verify_with_the_public_key() -> None:
    principal = tokens.verify(tokens.mint(ES, "service", 60, ES_PRIVATE), ES)
    assert principal.is_service
    with pytest.raises(ValueError, match="private key"):
        tokens.mint(ES, "service", 60)


def test_expired() -> None:
    old = jwt.encode(claims(exp=int(time.time()) - 3600), HS.key, algorithm="HS256")
    assert code_of(old) == "token_expired"


@pytest.mark.parametrize("missing", ["exp", "aud", "iss", "sub"])
def test_required_claims(missing: str) -> None:
    token = jwt.encode(claims(**{missing: None}), HS.key, algorithm="HS256")
    assert code_of(token) == "invalid_token"


def test_wrong_key_audience_and_issuer() -> None:
    assert (
        code_of(jwt.encode(claims(), "another-secret-of-enough-length!", algorithm="HS256"))
        == "invalid_token"
    )
    assert (
        code_of(jwt.encode(claims(aud="other.org"), HS.key, algorithm="HS256")) == "invalid_token"
    )
    assert code_of(jwt.encode(claims(iss="someone"), HS.key, algorithm="HS256")) == "invalid_token"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_never_verifies() -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims())}."
    assert code_of(token) == "invalid_token"


def test_the_algorithm_is_pinned_per_tenant() -> None:
    # An HS256 token "signed" with the ES256 tenant's public key must not verify there.
    forged = jwt.encode(claims(aud=ES.audience, iss=ES.issuer), "x" * 32, algorithm="HS256")
    assert code_of(forged, ES) == "invalid_token"
    es_token = tokens.mint(ES, "service", 60, ES_PRIVATE)
    assert code_of(es_token.replace(ES.audience, HS.audience), HS) == "invalid_token"


def test_unverified_audience() -> None:
    assert tokens.unverified_audience(tokens.mint(HS, "a", 60)) == "example.org"
    with pytest.raises(Unauthorized):
        tokens.unverified_audience("not-a-jwt")
    with pytest.raises(Unauthorized):
        tokens.unverified_audience(jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256"))
