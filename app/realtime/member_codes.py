"""A group member's code: short enough to type, and what the server derives from it.

A code is 16 symbols in four groups of four ("7K3M-9QXD-2HBW-R4TN") from Crockford's base 32
(digits and capitals without I, L, O and U), 80 random bits. It is read back whatever the
case, with or without the spaces and dashes, and the letters that look like digits are taken
as them (O as 0, I and L as 1).

The server keeps no code. From a code it derives, with scrypt (N=2^13, r=8, p=1: 8 MiB and
some tens of milliseconds per code) salted by the group, one secret; from that secret, by
HMAC, the hash it recognises the member by and the seed of their CPD key pair. Whoever holds
a copy of the store must run that scrypt for every guess (docs/groups.md has the figures).
The derivation runs once per request, in a thread (it would stall every room on the event
loop), and is kept in memory for a short time (``Derivations``), so a page and its downloads
do not pay for it again.

Codes handed out before (24 characters of URL-safe base 64, 144 bits) keep working: they are
used as written, recognised by their SHA-256 and their CPD seed made with PBKDF2, as then.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
GROUPS, GROUP_SIZE = 4, 4
SYMBOLS = GROUPS * GROUP_SIZE  # 16 symbols of 5 bits: 80 bits
LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
SCRYPT = {"n": 2 ** 13, "r": 8, "p": 1}  # 8 MiB of memory per derivation
SCRYPT_MAXMEM = 64 * 1024 * 1024


def new_code() -> str:
    """A fresh code, as shown to its owner: four groups of four, joined by dashes."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(SYMBOLS))
    return "-".join(symbols[i:i + GROUP_SIZE] for i in range(0, SYMBOLS, GROUP_SIZE))


def typed(code: str) -> str | None:
    """The code's 16 symbols if ``code`` is a code of this kind as someone typed it (any case,
    spaces and dashes anywhere, O for 0, I or L for 1); None if it is not one."""
    bare = re.sub(r"[\s\-‐-―]", "", code).upper().translate(LOOKALIKES)
    if len(bare) == SYMBOLS and all(c in ALPHABET for c in bare):
        return bare
    return None


@dataclass(frozen=True)
class MemberKeys:
    """What a code yields: ``lookup``, the hash the store recognises the member by, and
    ``cpd_seed``, the private half of their CPD key pair."""
    lookup: str
    cpd_seed: bytes


def derive(group_id: str, code: str) -> MemberKeys:
    """The keys of ``code`` in this group (slow for a code people type: run it off the event loop)."""
    bare = typed(code)
    if bare is None:  # a code from before: as written, as it was then
        return MemberKeys(lookup=hashlib.sha256(code.encode()).hexdigest(),
                          cpd_seed=hashlib.pbkdf2_hmac("sha256", code.encode(), b"talking-piece cpd v1", 10_000))
    secret = hashlib.scrypt(bare.encode(), salt=f"talking-piece member v2\x1f{group_id}".encode(),
                            maxmem=SCRYPT_MAXMEM, dklen=32, **SCRYPT)
    return MemberKeys(lookup="m2:" + hmac.new(secret, b"lookup", hashlib.sha256).hexdigest(),
                      cpd_seed=hmac.new(secret, b"cpd key", hashlib.sha256).digest())


class Derivations:
    """The keys of recently presented codes, kept in this process's memory for ``ttl_s``
    (never stored), so a member's page and its downloads run the slow derivation once.
    Entries are found by a hash of group and code, and a wrong code is not remembered."""

    def __init__(self, clock: Callable[[], float], ttl_s: float = 120.0, size: int = 256) -> None:
        self.clock, self.ttl_s, self.size = clock, ttl_s, size
        self._kept: OrderedDict[bytes, tuple[float, MemberKeys]] = OrderedDict()

    def kept(self, group_id: str, code: str) -> MemberKeys | None:
        """The keys of ``code`` in this group if they were kept and are still fresh."""
        name = self._name(group_id, code)
        kept = self._kept.get(name)
        if kept is None:
            return None
        if kept[0] <= self.clock():
            del self._kept[name]
            return None
        return kept[1]

    def remember(self, group_id: str, code: str, keys: MemberKeys) -> None:
        """Keep ``keys`` (of a code that was recognised) for a short time."""
        name = self._name(group_id, code)
        self._kept[name] = (self.clock() + self.ttl_s, keys)
        self._kept.move_to_end(name)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    @staticmethod
    def _name(group_id: str, code: str) -> bytes:
        return hashlib.sha256(f"{group_id}\x1f{typed(code) or code}".encode()).digest()
