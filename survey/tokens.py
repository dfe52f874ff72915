"""Respondent link tokens: 128 random bits or more, of which only the SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 24  # 192 bits


def new_token() -> tuple[str, str]:
    """A fresh token for a link and the hash to store in its place."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
