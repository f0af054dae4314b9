"""Secrets at rest (users' API keys), encrypted with Fernet; keys for signing, derived from the same secret.

The key comes from ASKVIDEO_SECRET_KEY (comma-separated to rotate: newest first) or, on a single
machine, from a file generated on first run under the data directory. Several app machines must
share ASKVIDEO_SECRET_KEY, or they could not read each other's ciphertexts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import Settings
from core.errors import SettingsError


def _key_file_keys(path: Path) -> list[bytes]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
        try:
            # link() fails if another process won the race; then we use its key.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return [path.read_bytes().strip()]


def _keys(secret_keys: str | None, key_file: Path) -> list[bytes]:
    keys = [k.strip().encode() for k in secret_keys.split(",") if k.strip()] if secret_keys else []
    return keys or _key_file_keys(key_file)


@lru_cache(maxsize=8)
def _cipher(secret_keys: str | None, key_file: Path) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _keys(secret_keys, key_file)])


@lru_cache(maxsize=8)
def _derived(secret_keys: str | None, key_file: Path, purpose: str) -> bytes:
    newest = _keys(secret_keys, key_file)[0]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(newest)


def sign(settings: Settings, purpose: str, message: str) -> str:
    """An HMAC of `message` under a key for this one purpose (media links, upload tokens …),
    derived from the newest secret key: every machine sharing ASKVIDEO_SECRET_KEY signs alike,
    and no purpose's signatures are valid for another."""
    key = _derived(settings.secret_keys, settings.data_dir / "secret.key", purpose)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def signed_by_us(settings: Settings, purpose: str, message: str, signature: str) -> bool:
    return hmac.compare_digest(sign(settings, purpose, message), signature or "")


def cipher(settings: Settings) -> MultiFernet:
    return _cipher(settings.secret_keys, settings.data_dir / "secret.key")


def encrypt(settings: Settings, plaintext: str) -> str:
    return cipher(settings).encrypt(plaintext.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    try:
        return cipher(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SettingsError(
            "The stored API key cannot be decrypted (the secret key changed). Enter the key again."
        ) from None


def seal(settings: Settings, purpose: str, plaintext: str) -> str:
    """Encrypt and sign a short message for one purpose only, to be opened by `unseal` within a
    time limit (a cookie handed through the browser); its key is derived like signing keys, so a
    sealed message is never readable as a stored secret or another purpose's."""
    return _sealer(settings, purpose).encrypt(plaintext.encode()).decode()


def unseal(settings: Settings, purpose: str, sealed: str, *, max_age_s: int) -> str | None:
    """The message `seal` made for `purpose`, or None when it is not ours, altered or too old."""
    try:
        return _sealer(settings, purpose).decrypt(sealed.encode(), ttl=max_age_s).decode()
    except (InvalidToken, ValueError):
        return None


def _sealer(settings: Settings, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived(settings.secret_keys, settings.data_dir / "secret.key", purpose)))
