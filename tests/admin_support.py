"""Logged-in admin clients with exactly the permissions a test names."""

from __future__ import annotations

from django.contrib.auth.models import Permission, User
from django.test import Client

STAFF_USERNAME = "staff"


def staff(*codenames: str) -> Client:
    user = User.objects.create_user(STAFF_USERNAME, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client
