"""Settings of the example shop.

Defaults talk to the bundled emulator on loopback; set the BUBBLEHOUSE_*
environment variables to talk to the real Bubblehouse instead.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A demo secret for the emulator only; a real shop's comes from its environment.
DEMO_SHARED_SECRET = "ZGVtby1zaG9wLXNoYXJlZC1zZWNyZXQtZm9yLWVtdWxhdG9y"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-shop-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "config.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
LOGIN_REDIRECT_URL = "/rewards/"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DB", str(BASE_DIR / "db.sqlite3")),
        # The demo's web server, worker and commands share one SQLite file.
        # WAL lets the worker read while a command writes.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "django_bubblehouse",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

Q_CLUSTER = {
    "name": "example-shop",
    "workers": 2,
    # Long enough for one push (TIMEOUT 5 + 30 s, plus serializing): check bubblehouse.E032.
    "timeout": 60,
    "retry": 90,
    "orm": "default",
    "poll": 0.2,
    "catch_up": False,
    # EXAMPLE_Q_SYNC=1 runs tasks inline (the example project's fast tests); never in production.
    "sync": os.environ.get("EXAMPLE_Q_SYNC") == "1",
}

BUBBLEHOUSE = {
    "SHOP": os.environ.get("BUBBLEHOUSE_SHOP", "demo-shop"),
    "KID": os.environ.get("BUBBLEHOUSE_KID", "demo-kid"),
    "SHARED_SECRET": os.environ.get("BUBBLEHOUSE_SHARED_SECRET", DEMO_SHARED_SECRET),
    "API_HOST": os.environ.get("BUBBLEHOUSE_API_HOST", "http://127.0.0.1:8765"),
    # Synchronous processing, warnings as errors: development and the example's tests only.
    "DEBUG_MODE": os.environ.get("BUBBLEHOUSE_DEBUG_MODE") == "1",
    "SERIALIZERS": [
        "shop.bubblehouse.OrderSerializer",
        "shop.bubblehouse.CustomerSerializer",
        "shop.bubblehouse.ProductSerializer",
        "shop.bubblehouse.CollectionSerializer",
        "shop.bubblehouse.DealerSerializer",
        "shop.bubblehouse.EligibleDealerSerializer",
    ],
    # Bubblehouse creates the codes customers redeem; the checkout honours them.
    "HOOK_HANDLERS": {"CreateDiscount4": "shop.hooks.create_discount"},
    "STOREFRONT_CUSTOMER": "shop.storefront.current_customer",
    "ORDER_STATUS_MAP": {
        "pending": "unconfirmed",
        "paid": "confirmed",
        "fulfilled": "completed",
        "cancelled": "canceled",
        "refunded": "canceled",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_bubblehouse": {"handlers": ["console"], "level": "INFO"}},
}
