"""Encryption of secrets at rest (channel credentials) and hashing of tokens and passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from relaydesk.core.files import make_private_dir
from relaydesk.settings import Settings


class SecretKeyMissing(RuntimeError):
    pass


def _fernet_key(material: str) -> bytes:
    # Any passphrase becomes a valid Fernet key; a real Fernet key is used as given.
    try:
        raw = base64.urlsafe_b64decode(material.encode())
        if len(raw) == 32:
            return material.encode()
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())


def generate_secret_key() -> str:
    """A new key for RELAYDESK_SECRET_KEY: 256 random bits, in the form the key file holds."""
    return Fernet.generate_key().decode()


def resolve_secret_key(settings: Settings) -> str:
    """The configured key; in development a key file under data_dir is created once and reused."""
    if settings.secret_key:
        return settings.secret_key
    if settings.mode == "production":
        raise SecretKeyMissing(
            "RELAYDESK_SECRET_KEY is not set. In production mode RelayDesk refuses to start without it, "
            "because channel credentials are encrypted with it. Generate one with "
            "`relaydesk keygen` and set it in the environment."
        )
    path = Path(settings.data_dir) / "secret.key"
    if path.exists():
        return path.read_text().strip()
    make_private_dir(path.parent)
    key = generate_secret_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class SecretBox:
    """Encrypts a JSON object of secrets into one opaque string and back."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(_fernet_key(key))
        self._key = _fernet_key(key)

    def derive(self, label: str) -> bytes:
        """A separate key for another purpose (CSRF tokens, widget tokens), never the key itself."""
        return hmac.new(self._key, label.encode(), hashlib.sha256).digest()

    def seal(self, secrets_: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(secrets_, sort_keys=True).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise SecretKeyMissing(
                "stored credentials cannot be decrypted: RELAYDESK_SECRET_KEY differs from the key "
                "they were encrypted with"
            ) from exc
        return dict(data)


def new_token(prefix: str = "rd") -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    # Tokens carry 256 bits of entropy, so a fast hash is enough and keeps lookups indexed.
    return hashlib.sha256(token.encode()).hexdigest()


def _derive(password: str, salt: bytes) -> bytes:
    """The deliberately slow part of checking a password: every login attempt runs it once."""
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


# Checked when there is no real hash (an unknown email, a user without a password), so such an
# attempt costs what a wrong password for a real account costs and timing does not tell them apart.
_DUMMY_SALT = b"relaydesk-dummy!"


def verify_password(password: str, stored: str | None) -> bool:
    parts = stored.split("$", 2) if stored else []
    if len(parts) != 3 or parts[0] != "scrypt":
        _derive(password, _DUMMY_SALT)
        return False
    try:
        salt, expected = base64.b64decode(parts[1]), base64.b64decode(parts[2])
    except ValueError:
        _derive(password, _DUMMY_SALT)
        return False
    return hmac.compare_digest(_derive(password, salt), expected)
