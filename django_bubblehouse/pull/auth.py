"""Who may read a pull URL: the bearer of an inbound token (see :mod:`..inbound`)."""

from __future__ import annotations

from django.http import HttpRequest

from ..inbound import check_inbound_bearer


def check_bearer(request: HttpRequest) -> None:
    """Raise :class:`~django_bubblehouse.auth.TokenRejected` unless the token is accepted."""
    check_inbound_bearer(request)
