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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


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


# ------------------------------------------------ a member's CPD record, sealed to their code
# At a session's close the server has no member code (it keeps only its hash), so it cannot
# derive a symmetric key then. Instead the code yields a key pair: the server keeps the public
# half (given when the member presents the code at a join) and seals each entry to it; only
# the member's code, presented again, re-derives the private half that opens them.

# The seed comes from the member's code (``member_codes``: scrypt for the codes people type,
# PBKDF2 for the longer ones handed out before); a str here is a code from before, as then.

def _cpd_private(seed: str | bytes) -> X25519PrivateKey:
    if isinstance(seed, str):
        seed = hashlib.pbkdf2_hmac("sha256", seed.encode(), b"talking-piece cpd v1", 10_000)
    return X25519PrivateKey.from_private_bytes(seed)


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def cpd_public_key(member_code: str | bytes) -> str:
    """The public half of the member's CPD key pair (stored; it opens nothing)."""
    return base64.urlsafe_b64encode(_raw(_cpd_private(member_code).public_key())).decode()


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"talking-piece cpd box v1" + ephemeral + recipient).derive(shared)


def seal_to(public_key: str, context: str, plaintext: str) -> str:
    """Seal to a public key: an ephemeral X25519 exchange, HKDF, AES-GCM with ``context``."""
    recipient = base64.urlsafe_b64decode(public_key.encode())
    ephemeral = X25519PrivateKey.generate()
    eph = _raw(ephemeral.public_key())
    key = _box_key(ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient)), eph, recipient)
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(eph + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())).decode()


class CpdOpener:
    """Opens what was sealed to a member's public key, given their seed (or an old code)."""

    def __init__(self, member_code: str | bytes) -> None:
        self._private = _cpd_private(member_code)
        self._public = _raw(self._private.public_key())

    def open(self, context: str, sealed: str) -> str | None:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            eph, nonce, body = raw[:32], raw[32:44], raw[44:]
            key = _box_key(self._private.exchange(X25519PublicKey.from_public_bytes(eph)), eph, self._public)
            return AESGCM(key).decrypt(nonce, body, context.encode()).decode()
        except (InvalidTag, ValueError):
            return None


def cpd_context(group_id: str, member_id: str, part: str) -> str:
    """What a CPD seal is bound to: this member of this group, and which part of the entry."""
    return f"cpd/{group_id}/{member_id}/{part}"


# ------------------------------------------------ the group's record, readable by its readers only
# A meeting's title may name a case, so the record keeps it sealed to the group's record key
# pair, like a member's CPD entries: at a session's close the server has neither the group key
# nor the report link's key (it keeps their hashes), so it seals to the public half. The private
# half's seed comes from the group key (192 random bits: one HMAC, nothing to slow a guess down
# for); the report link carries a copy of that seed sealed under its own key, so the link opens
# the titles while it exists, and nothing once revoked (the copy goes with it).

def record_seed(group_key: str) -> bytes:
    """The seed of the group's record key pair (the private half), from its key."""
    return hmac.new(group_key.encode(), b"talking-piece record v1", hashlib.sha256).digest()


def _report_wrap(report_key: str) -> bytes:
    return hmac.new(report_key.encode(), b"talking-piece report v1", hashlib.sha256).digest()


def wrap_for_report(group_id: str, report_key: str, seed: bytes) -> str:
    """The record seed sealed under the report link's key (what the link opens the titles with)."""
    return seal_with(_report_wrap(report_key), f"report/{group_id}", base64.urlsafe_b64encode(seed).decode())


def unwrap_for_report(group_id: str, report_key: str, wrapped: str) -> bytes | None:
    opened = open_with(_report_wrap(report_key), f"report/{group_id}", wrapped)
    return base64.urlsafe_b64decode(opened.encode()) if opened is not None else None


def record_context(group_id: str, meeting_id: str) -> str:
    """What a meeting's sealed title is bound to: this group and this meeting."""
    return f"record/{group_id}/{meeting_id}/title"
