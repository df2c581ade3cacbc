"""``{% load bubblehouse %}{% bubblehouse_rewards %}``: the rewards iframe and its script.

A logged-in customer's iframe carries a customer token; an anonymous visitor's
carries none (``auth=`` is empty). A shop token is never rendered. Needs the
``request`` context processor.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from ..storefront.embed import iframe_url, script_url
from ..storefront.tokens import request_token

register = template.Library()


@register.inclusion_tag("django_bubblehouse/storefront/rewards.html", takes_context=True)
def bubblehouse_rewards(context: template.Context, page: str = "") -> dict[str, Any]:
    request = context.get("request")
    if request is None:
        raise template.TemplateSyntaxError(
            "bubblehouse_rewards needs the request: add "
            "'django.template.context_processors.request' to the template context processors"
        )
    token = request_token(request)
    try:
        refresh_url = reverse("bubblehouse_storefront:token") if token else ""
    except NoReverseMatch:
        refresh_url = ""
    return {
        "iframe_url": iframe_url(token, page=page or None),
        "script_url": script_url(),
        "refresh_url": refresh_url,
    }
