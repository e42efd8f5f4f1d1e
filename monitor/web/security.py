"""Passwords (Argon2id), signed tokens, CSRF tokens and a per-address login throttle.

Nothing here logs or stores a secret in clear: the store keeps Argon2 hashes of passwords and SHA-256 digests of
session tokens and activation codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..settings import Settings

__all__ = ["hash_password", "verify_password", "needs_rehash", "digest", "new_token", "sign", "unsign",
           "sign_data", "unsign_data", "secret_key", "Throttle", "activation_code", "normalise_code",
           "check_password_rules"]

# OWASP's Argon2id parameters (19 MiB, 2 passes, 1 lane): ~15 ms a hash, so 50 concurrent sign-ins on 2 cores
# stay interactive; raise them in one place if the hardware allows.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a letter and typed by hand


def hash_password(password: str) -> str:
    """The Argon2id hash of a password."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches the stored hash (a missing or damaged hash never matches)."""
    if not stored:
        _HASHER.hash(password)  # same cost either way: no timing hint that the account has no password
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return _HASHER.check_needs_rehash(stored)


def check_password_rules(password: str, username: str) -> str | None:
    """A catalogue key naming the broken rule (length 10..128, not the user name), or None."""
    if len(password) < 10:
        return "pw_short"
    if len(password) > 128:
        return "pw_long"
    if password.strip().lower() == username.strip().lower():
        return "pw_username"
    return None


def digest(token: str) -> str:
    """SHA-256 hex digest of a token or code (what the store keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A random URL-safe token of 256 bits."""
    return secrets.token_urlsafe(32)


def activation_code() -> str:
    """A one-time activation code: 12 characters in groups of four (60 bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(text: str) -> str:
    """An activation code as typed (any case, spaces or dashes) in its printed form."""
    raw = "".join(c for c in text.upper() if c.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 12 else raw


def _mac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def sign(key: bytes, value: str) -> str:
    """``value.mac``: a value the browser keeps and cannot alter."""
    return f"{value}.{_mac(key, value)}"


def unsign(key: bytes, signed: str | None) -> str | None:
    """The value of a signed string, or None when it was altered or is malformed."""
    if not signed or "." not in signed:
        return None
    value, mac = signed.rsplit(".", 1)
    return value if hmac.compare_digest(mac, _mac(key, value)) else None


def sign_data(key: bytes, data: dict[str, Any], *, max_age: int) -> str:
    """JSON data signed with an expiry (for the form kept across an expired session)."""
    body = json.dumps({"d": data, "exp": int(time.time()) + max_age}, ensure_ascii=False, separators=(",", ":"))
    return sign(key, base64.urlsafe_b64encode(body.encode("utf-8")).decode("ascii"))


def unsign_data(key: bytes, signed: str | None) -> dict[str, Any] | None:
    """The data of :func:`sign_data`, or None when altered, malformed or expired."""
    value = unsign(key, signed)
    if value is None:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or body.get("exp", 0) < time.time() or not isinstance(body.get("d"), dict):
        return None
    return body["d"]


def secret_key(settings: Settings) -> bytes:
    """``web.secret_key``, else the key in ``<data_dir>/web-secret.key`` (made once, readable by the owner only)."""
    configured = settings["web.secret_key"]
    if configured:
        return configured.encode("utf-8")
    path = Path(settings.data_dir) / "web-secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii") as fh:  # two workers starting at once: one writes, both read
                path.chmod(0o600)
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    for _ in range(50):
        text = path.read_text("ascii").strip()
        if text:
            return text.encode("ascii")
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it so a new key is made")


class Throttle:
    """At most ``limit`` failed sign-ins per client address in ``window`` seconds (per process)."""

    def __init__(self, limit: int = 20, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, address: str) -> bool:
        """True while the address has used up its failures."""
        with self._lock:
            hits = self._hits.get(address)
            now = time.monotonic()
            while hits and hits[0] < now - self.window:
                hits.popleft()
            return hits is not None and len(hits) > 0 and len(hits) >= self.limit

    def failed(self, address: str) -> None:
        """Count one failure of the address."""
        with self._lock:
            self._hits.setdefault(address, deque()).append(time.monotonic())
            if len(self._hits) > 10_000:  # forget the oldest addresses rather than grow without bound
                for stale in list(self._hits)[:1000]:
                    self._hits.pop(stale, None)
