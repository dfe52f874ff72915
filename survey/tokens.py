"""Respondent link tokens: 192 pseudo-random bits, of which only the SHA-256 is stored.

A token is the HMAC of a random per-invitation salt under the application's secret key. The
database alone holds neither a token nor what yields one (the salt is useless without the key),
yet the sender can rebuild the link when it writes a reminder weeks after the draw.
Rotating the secret key therefore invalidates the links of open campaigns.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SALT_BYTES = 16


def token_for(secret_key: str, salt: str) -> str:
    digest = hmac.new(secret_key.encode(), f"invitation:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(secret_key: str) -> tuple[str, str, str]:
    """A new (salt, token, token_hash): store salt and hash, put the token in the link."""
    salt = secrets.token_hex(SALT_BYTES)
    token = token_for(secret_key, salt)
    return salt, token, hash_token(token)
