"""Shop and customer tokens: HS256 JWTs signed with the shop's shared secret."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable

import jwt

from .conf import BubblehouseSettings, SigningKey, get_settings

AUDIENCE = "BH"
ALGORITHM = "HS256"
# Every token this app mints says what it is for, so the app's own inbound URLs
# can refuse its outbound credentials (a leaked push token must not read the shop).
USE_CLAIM = "token_use"
PUSH_USE = "push"
CUSTOMER_USE = "customer"


class InvalidSecret(ValueError):
    """The configured secret is not base64 (the message never contains the secret)."""


def decode_secret(secret: str) -> bytes:
    """The HMAC key: the secret as issued is base64, standard or URL-safe, padding optional."""
    compact = "".join(secret.split())
    padded = compact + "=" * (-len(compact) % 4)
    alphabet_fixed = padded.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(alphabet_fixed, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidSecret("the shared secret is not valid base64") from error
    if not key:
        raise InvalidSecret("the shared secret is empty")
    return key


def mint_token(subject: str, key: SigningKey, *, ttl: int, use: str, now: float | None) -> str:
    """A token for ``subject``; :func:`mint_shop_token` and the storefront's customer tokens."""
    issued_at = int(time.time() if now is None else now)
    claims = {"aud": AUDIENCE, "sub": subject, "iat": issued_at, "exp": issued_at + ttl}
    return jwt.encode(
        {**claims, USE_CLAIM: use},
        decode_secret(key.secret),
        algorithm=ALGORITHM,
        headers={"kid": key.kid, "typ": "JWT"},
    )


def mint_shop_token(
    settings: BubblehouseSettings | None = None, *, now: float | None = None
) -> str:
    """A shop token for server-side calls. Never hand one to a browser."""
    conf = settings or get_settings()
    return mint_token(conf.shop, conf.signing_key, ttl=conf.token_ttl, use=PUSH_USE, now=now)


class TokenRejected(Exception):
    """Why a presented token was refused; the message is safe to show the caller."""


def verify_token(
    token: str, *, keys: Iterable[SigningKey], subject: str, audience: str = AUDIENCE
) -> dict[str, object]:
    """Check an HS256 token against ``keys`` by ``kid``; ``exp`` is required; ``sub`` must match.

    Used by the app's inbound URLs (see :mod:`.inbound`); the emulator verifies shop tokens
    with its own code.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenRejected("malformed token") from error
    if header.get("alg") != ALGORITHM:
        raise TokenRejected("unsupported algorithm")
    key = next((k for k in keys if k.kid == header.get("kid")), None)
    if key is None:
        raise TokenRejected("unknown key id")
    try:
        claims: dict[str, object] = jwt.decode(
            token,
            decode_secret(key.secret),
            algorithms=[ALGORITHM],
            audience=audience,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRejected("token has expired") from error
    except jwt.InvalidSignatureError as error:
        raise TokenRejected("bad signature") from error
    except jwt.PyJWTError as error:
        raise TokenRejected(f"invalid token: {type(error).__name__}") from error
    if claims.get("sub") != subject:
        raise TokenRejected("token subject does not match")
    return claims
