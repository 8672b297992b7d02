"""Test settings: the real settings plus a fast password hasher and eager Celery.

Integration tests that need a real worker switch eagerness off themselves.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from crm.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if not REDIS_URL:  # noqa: F405 - each test process starts with an empty cache of its own
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# The test client and the live server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
