"""Settings for the test suite: SQLite by default, DATABASE_URL and Q_BROKER to switch."""

import os

import dj_database_url

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"  # pytest-django's live_server needs one

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "sqlite:///:memory:"), conn_max_age=0
    )
}
DATABASES["default"]["TEST"] = {"NAME": None}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_q",
    "django_bubblehouse",
    "tests.testapp",
    "tests.framework_shop",  # wired with override_settings: tests/framework_support.py
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
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
    "name": "tests",
    "workers": 1,
    "timeout": 60,
    "retry": 120,
    "orm": "default",
    "sync": True,
}
if os.environ.get("Q_BROKER") == "redis":
    Q_CLUSTER = {**Q_CLUSTER, "redis": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}
    del Q_CLUSTER["orm"]

# A throwaway base64 secret; tests that need other values use override_settings.
BUBBLEHOUSE = {
    "SHOP": "testshop",
    "KID": "test-kid",
    "SHARED_SECRET": "dGVzdHMtb25seS1zaGFyZWQtc2VjcmV0LTMyYnl0ZXMh",
    "API_HOST": "bubblehouse.test",
    "SERIALIZERS": [
        "tests.testapp.bubblehouse.OrderSerializer",
        "tests.testapp.bubblehouse.CustomerSerializer",
        "tests.testapp.bubblehouse.ProductSerializer",
        "tests.testapp.bubblehouse.CollectionSerializer",
        "tests.testapp.bubblehouse.DealerSerializer",
        "tests.testapp.bubblehouse.EligibleDealerSerializer",
    ],
    "ORDER_STATUS_MAP": {
        "pending": "unconfirmed",
        "paid": "confirmed",
        "shipped": "completed",
        "cancelled": "canceled",
        "refunded": "canceled",
    },
}
