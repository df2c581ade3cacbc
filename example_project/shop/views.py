"""The storefront's rewards page: Bubblehouse's iframe for the current visitor."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def rewards(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/rewards.html")
