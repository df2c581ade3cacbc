from __future__ import annotations

import base64
import time

import jwt
import pytest
from django.test import override_settings

from django_bubblehouse.auth import (
    InvalidSecret,
    TokenRejected,
    decode_secret,
    mint_shop_token,
    verify_token,
)
from django_bubblehouse.conf import SigningKey, get_settings

# 0xfb 0xff 0xbf ... encodes with "+" and "/" in the standard alphabet.
RAW_KEY = bytes([0xFB, 0xFF, 0xBF]) * 11 + b"k"
STANDARD = base64.b64encode(RAW_KEY).decode()
URLSAFE = base64.urlsafe_b64encode(RAW_KEY).decode()
KEY = SigningKey("kid-1", STANDARD)
OLD_RAW_KEY = b"the-previous-secret-of-32-bytes!"
NOW = 1_700_000_000


def settings_with(**extra: object) -> dict[str, object]:
    return {"SHOP": "myshop", "KID": KEY.kid, "SHARED_SECRET": KEY.secret, **extra}


def test_secret_alphabets_and_padding_decode_to_the_same_key():
    assert "+" in STANDARD
    assert "/" in STANDARD
    assert STANDARD.endswith("=")
    for secret in (STANDARD, STANDARD.rstrip("="), URLSAFE, URLSAFE.rstrip("="), f" {STANDARD}\n"):
        assert decode_secret(secret) == RAW_KEY


@pytest.mark.parametrize("secret", ["not base64!", "abc$defgh", "QUJDRUZH1", ""])
def test_invalid_secret_never_echoes_the_secret(secret):
    with pytest.raises(InvalidSecret) as caught:
        decode_secret(secret)
    if secret:
        assert secret not in str(caught.value)


def shop_token(**extra: object) -> str:
    with override_settings(BUBBLEHOUSE=settings_with(**extra)):
        return mint_shop_token(now=NOW)


def test_shop_token_header_and_claims():
    token = shop_token(TOKEN_TTL=120)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "kid-1"}
    claims = jwt.decode(
        token, RAW_KEY, algorithms=["HS256"], audience="BH", options={"verify_exp": False}
    )
    assert claims == {
        "aud": "BH",
        "sub": "myshop",
        "iat": NOW,
        "exp": NOW + 120,
        "token_use": "push",
    }


def test_rotation_signs_with_the_first_key_and_verifies_by_kid():
    old = SigningKey("kid-old", base64.b64encode(OLD_RAW_KEY).decode())
    with override_settings(BUBBLEHOUSE=settings_with(KEYS=[(old.kid, old.secret)])):
        token = mint_shop_token()
        keys = get_settings().keys
    assert jwt.get_unverified_header(token)["kid"] == "kid-1"
    assert verify_token(token, keys=keys, subject="myshop")["sub"] == "myshop"
    old_token = jwt.encode(
        {"aud": "BH", "sub": "myshop", "exp": int(time.time()) + 60},
        OLD_RAW_KEY,
        algorithm="HS256",
        headers={"kid": "kid-old"},
    )
    assert verify_token(old_token, keys=keys, subject="myshop")["sub"] == "myshop"


def forged(claims: dict[str, object], *, kid: str = "kid-1", key: bytes = RAW_KEY) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def valid_claims(**changes: object) -> dict[str, object]:
    # Built when the suite is collected, maybe minutes before the test runs.
    return {"aud": "BH", "sub": "myshop", "exp": int(time.time()) + 3600, **changes}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (forged({"aud": "BH", "sub": "myshop"}), "invalid token: MissingRequiredClaimError"),
        (forged(valid_claims(), kid="other"), "unknown key id"),
        (forged(valid_claims(), key=OLD_RAW_KEY), "bad signature"),
        (forged(valid_claims(exp=int(time.time()) - 10)), "token has expired"),
        (forged(valid_claims(sub="othershop")), "token subject does not match"),
        (forged(valid_claims(aud="XX")), "invalid token: InvalidAudienceError"),
        (
            jwt.encode(valid_claims(), None, algorithm="none", headers={"kid": "kid-1"}),
            "unsupported algorithm",
        ),
        ("not-a-token", "malformed token"),
    ],
    ids=[
        "missing-exp",
        "wrong-kid",
        "bad-signature",
        "expired",
        "wrong-sub",
        "wrong-aud",
        "alg-none",
        "garbage",
    ],
)
def test_verify_token_rejections(token, reason):
    with pytest.raises(TokenRejected) as caught:
        verify_token(token, keys=[KEY], subject="myshop")
    assert str(caught.value) == reason
    assert KEY.secret not in str(caught.value)


def test_verify_token_accepts_a_valid_token():
    assert verify_token(forged(valid_claims()), keys=[KEY], subject="myshop")["aud"] == "BH"
