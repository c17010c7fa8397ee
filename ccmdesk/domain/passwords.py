"""Password hashing: slow, salted scrypt from the standard library.

A stored hash reads ``scrypt$<log2 n>$<r>$<p>$<salt>$<key>`` (salt and key in
base64), so the cost can be raised later and old hashes still verify; a
hash with a cost below today's is re-hashed at the next good sign-in
(:func:`needs_rehash`).  n = 2^15, r = 8 costs about 0.15 s and 32 MiB on
a small office PC: negligible once a sign-in, ruinous for a guesser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

LOG2_N = 15
BLOCK_SIZE = 8
PARALLELISM = 1
KEY_BYTES = 32
MIN_LENGTH = 8


class PasswordPolicyError(ValueError):
    """A new password that will not do; the message says why."""


def check_policy(password: str) -> None:
    """NIST SP 800-63B: a minimum length, no composition rules."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"a password needs at least {MIN_LENGTH} characters")
    if password.strip() != password:
        raise PasswordPolicyError("a password cannot begin or end with a space")


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r + (1 << 20),
        dklen=KEY_BYTES,
    )


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    key = _derive(password, salt, LOG2_N, BLOCK_SIZE, PARALLELISM)
    encode = base64.b64encode
    return (
        f"scrypt${LOG2_N}${BLOCK_SIZE}${PARALLELISM}${encode(salt).decode()}${encode(key).decode()}"
    )


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; False for anything malformed."""
    if not stored:
        return False
    try:
        scheme, log2_n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt" or not 10 <= int(log2_n) <= 20:
            return False
        expected = base64.b64decode(key)
        actual = _derive(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) != 6 or parts[1:4] != [str(LOG2_N), str(BLOCK_SIZE), str(PARALLELISM)]
