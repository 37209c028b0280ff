"""Encryption of personal data at rest (the recipient's ID number that customs ask for on a parcel).

Fernet (``cryptography``: AES-128-CBC with an HMAC-SHA256, so an altered token is refused, never
decrypted to garbage) with the keys of ``settings.PERSONAL_DATA_KEYS``, a list of Fernet keys
(``Fernet.generate_key()``: urlsafe base64 of 32 bytes). The first key encrypts; every key in the list
decrypts (``MultiFernet``). To rotate: put the new key first, re-encrypt the stored tokens with
:func:`rotate`, then drop the old key. Production reads the keys from the environment; demo and test
derive one from SECRET_KEY (config/settings.py).

A token is ASCII (urlsafe base64) and a new one each time (random IV). Its length is
4 * ceil((57 + 16 * (n // 16 + 1)) / 3) for n bytes of UTF-8 text: 100 characters up to 15 bytes,
120 for 16-31 bytes (an 18-character ID number), 140 for 32-47.
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(ValueError):
    """A token that none of the keys opens: altered, truncated, or encrypted with a key since removed."""


def encrypt(text: str) -> str:
    """``text`` encrypted with the first key of PERSONAL_DATA_KEYS, as an ASCII token."""
    if not isinstance(text, str):
        raise TypeError(f"encrypt() takes a str, not {type(text).__name__}")
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token from :func:`encrypt`; raises :class:`DecryptionError` if no key opens it."""
    return _open(token, lambda f, raw: f.decrypt(raw)).decode("utf-8")


def rotate(token: str) -> str:
    """``token`` re-encrypted with the first key (its original time kept), for key rotation."""
    return _open(token, lambda f, raw: f.rotate(raw)).decode("ascii")


def _open(token: str, operation) -> bytes:
    if not isinstance(token, str):
        raise TypeError(f"expected a str token, not {type(token).__name__}")
    try:
        raw = token.encode("ascii")
        # Base64 decoding ignores what follows the padding and the unused bits of the last character:
        # a token that is not exactly what encrypt() wrote is refused too, not silently accepted.
        if base64.urlsafe_b64encode(base64.urlsafe_b64decode(raw)) != raw:
            raise InvalidToken
        return operation(_fernet(), raw)
    except (InvalidToken, UnicodeEncodeError, binascii.Error):
        raise DecryptionError(
            "This personal data cannot be decrypted: the token was altered or truncated, "
            "or was encrypted with a key that is no longer in PERSONAL_DATA_KEYS."
        ) from None


def _fernet() -> MultiFernet:
    keys = getattr(settings, "PERSONAL_DATA_KEYS", None) or ()
    if isinstance(keys, str | bytes):
        keys = [keys]
    return _multi_fernet(tuple(keys))


@functools.lru_cache(maxsize=8)
def _multi_fernet(keys: tuple) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PERSONAL_DATA_KEYS is empty: give at least one Fernet key.")
    fernets = []
    for position, key in enumerate(keys):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # The key itself is never put in the message.
            raise ImproperlyConfigured(
                f"PERSONAL_DATA_KEYS[{position}] is not a Fernet key (urlsafe base64 of 32 bytes, "
                "as Fernet.generate_key() makes)."
            ) from None
    return MultiFernet(fernets)
