"""Who the storefront's logged-in visitor is (``BUBBLEHOUSE["STOREFRONT_CUSTOMER"]``)."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Customer


def current_customer(request: HttpRequest) -> Customer | None:
    """The customer row of the logged-in user; staff without one get no customer token."""
    user_id = request.user.pk
    if user_id is None:
        return None
    return Customer.objects.filter(user_id=user_id).select_related("user").first()
