"""Shop tokens as the pages describe them, with PyJWT and nothing of the app's.

A shop token is an HS256 JWT whose header names the key (``kid``) and whose
claims say ``aud = "BH"``, ``sub = <shop>`` and when it expires. The secret is
issued as base64 (standard or URL-safe alphabet, padding optional); the HMAC
key is its decoded bytes.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable
from typing import Protocol

import jwt


class ShopKey(Protocol):
    @property
    def kid(self) -> str: ...

    @property
    def secret(self) -> str: ...


class TokenRefused(Exception):
    """Why a token is not a valid shop token for this shop (safe to show the caller)."""


def hmac_key(secret: str) -> bytes:
    text = "".join(secret.split()).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise TokenRefused("the emulator's secret for this key is not base64") from None


def sign_token(key: ShopKey, subject: str, *, ttl: int = 300, now: float | None = None) -> str:
    """A token for ``subject`` (a shop slug), as Bubblehouse-side callers sign them."""
    issued_at = int(time.time() if now is None else now)
    claims = {"aud": "BH", "sub": subject, "iat": issued_at, "exp": issued_at + ttl}
    headers = {"kid": key.kid, "typ": "JWT"}
    return jwt.encode(claims, hmac_key(key.secret), algorithm="HS256", headers=headers)


def check_shop_token(token: str, *, keys: Iterable[ShopKey], shop: str) -> None:
    """Raise :class:`TokenRefused` unless ``token`` is a live shop token of ``shop``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRefused("malformed token") from None
    if header.get("alg") != "HS256":
        raise TokenRefused("unsupported algorithm")
    key = next((k for k in keys if k.kid == header.get("kid")), None)
    if key is None:
        raise TokenRefused("unknown key id")
    try:
        claims = jwt.decode(
            token,
            hmac_key(key.secret),
            algorithms=["HS256"],
            audience="BH",
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("token has expired") from None
    except jwt.InvalidSignatureError:
        raise TokenRefused("bad signature") from None
    except jwt.PyJWTError as error:
        raise TokenRefused(f"invalid token: {type(error).__name__}") from None
    subject = claims.get("sub")
    if isinstance(subject, str) and subject.startswith(f"{shop}/"):
        raise TokenRefused("a customer token cannot call the Order API")
    if subject != shop:
        raise TokenRefused("token subject does not match")
