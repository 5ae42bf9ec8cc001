"""Sealing private reflections so that only their writer's token can open them.

The key is derived from the participant's token, which the server never stores (it
keeps a SHA-256 of it for authentication, a different derivation). Whoever reads the
store, or the facilitator, holds ciphertext they cannot open.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def _key(token: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", token.encode(), b"talking-piece reflection v1", 10_000)


def seal(token: str, context: str, plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(token)).encrypt(nonce, plaintext.encode(), context.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_sealed(token: str, context: str, sealed: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(_key(token)).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (InvalidTag, ValueError):
        return None
