"""Sealing what only its owner's token may open: private reflections, and the remembered
acknowledgements of commands (a ``submit_item`` ack carries the receipt that retracts it).

The key is derived from the token, which the server never stores (it keeps a SHA-256 of
it for authentication, a different derivation). Whoever reads the store, or the
facilitator, holds ciphertext they cannot open. Reflections use a slow derivation
(PBKDF2) because they are few; acks, one per command, a single HMAC: a token carries 192
random bits, so there is nothing to slow a guess down for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def ack_key(token: str, code: str) -> bytes:
    return hmac.new(token.encode(), f"talking-piece acks v1\x1f{code}".encode(), hashlib.sha256).digest()


def seal_with(key: bytes, context: str, plaintext: str) -> str:
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())).decode()


def open_with(key: bytes, context: str, sealed: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (InvalidTag, ValueError):
        return None
