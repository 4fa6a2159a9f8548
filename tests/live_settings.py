"""Settings for the server process that browser tests start: production settings, plus the
fast password hasher the test process uses, so users made by factories can log in."""

from coworking.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
