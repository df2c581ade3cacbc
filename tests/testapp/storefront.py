"""The test shop's customers are rows beside auth.User (Customer.user)."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Customer


def current_customer(request: HttpRequest) -> Customer | None:
    user_id = request.user.pk
    return None if user_id is None else Customer.objects.filter(user_id=user_id).first()
