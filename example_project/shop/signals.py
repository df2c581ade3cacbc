"""Names and email live on auth.User, which Bubblehouse sees through the shop's Customer.

A serializer's ``related`` follows a foreign key from the changed row to the
serialized one; User holds none to Customer (the one-to-one points the other
way), so a user edit marks its customer dirty here, through the public outbox API.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models.signals import post_save
from django.dispatch import receiver

from django_bubblehouse.outbox import mark_dirty
from django_bubblehouse.sync import sync_enabled

from .bubblehouse import CustomerSerializer
from .models import Customer


@receiver(post_save, sender=User, dispatch_uid="shop.user_saved")
def user_saved(sender: type[User], instance: User, raw: bool = False, **kwargs: Any) -> None:
    if raw or not sync_enabled(Customer):
        return
    keys = [str(pk) for pk in Customer.objects.filter(user=instance).values_list("pk", flat=True)]
    if keys:
        mark_dirty(CustomerSerializer, keys)
