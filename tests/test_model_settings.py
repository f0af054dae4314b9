"""A user's API key is encrypted at rest, shown only masked, and can be replaced or removed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core import model_settings
from core.config import load_settings
from core.encryption import decrypt, encrypt
from core.errors import SettingsError
from db.models import User
from tests.factories import make_account

KEY = "sk-test-1234567890abcdefWXYZ"


def test_key_round_trips_but_is_never_stored_or_shown_in_plain(session, settings):
    account = make_account(session)
    model_settings.set_api_key(session, settings, account.id, f"  {KEY} ")
    stored = session.get(User, account.id).encrypted_openai_api_key
    assert KEY not in stored and stored.startswith("gAAAA")
    shown = model_settings.get_model_settings(session, settings, account.id)
    assert shown.has_api_key and shown.masked_api_key == "sk-…WXYZ" and KEY not in repr(shown)
    assert model_settings.model_access(session, settings, account.id).api_key == KEY


def test_key_can_be_replaced_and_removed(session, settings):
    account = make_account(session)
    model_settings.set_api_key(session, settings, account.id, KEY)
    model_settings.set_api_key(session, settings, account.id, "sk-other-key-0000")
    assert model_settings.model_access(session, settings, account.id).api_key == "sk-other-key-0000"
    model_settings.remove_api_key(session, account.id)
    shown = model_settings.get_model_settings(session, settings, account.id)
    assert not shown.has_api_key and shown.masked_api_key == ""
    assert not model_settings.model_access(session, settings, account.id).remote


@pytest.mark.parametrize("bad", ["", "   ", "sk has spaces", "x" * 501])
def test_implausible_keys_are_refused(session, settings, bad):
    account = make_account(session)
    with pytest.raises(SettingsError):
        model_settings.set_api_key(session, settings, account.id, bad)


def test_models_and_base_url_default_and_validate(session, settings):
    account = make_account(session)
    shown = model_settings.get_model_settings(session, settings, account.id)
    assert shown.chat_model == settings.chat_model and shown.base_url == ""
    model_settings.set_models(session, account.id, base_url="http://127.0.0.1:11434/v1",
                              chat_model="llama3.2", embedding_model="")
    access = model_settings.model_access(session, settings, account.id)
    assert access.base_url == "http://127.0.0.1:11434/v1" and access.chat_model == "llama3.2"
    assert access.remote and access.api_key is None
    assert access.embedding_model == settings.embedding_model
    with pytest.raises(SettingsError, match="http"):
        model_settings.set_models(session, account.id, base_url="javascript:alert(1)",
                                  chat_model="", embedding_model="")


def test_generated_secret_key_file_is_private_and_reused(settings):
    token = encrypt(settings, "hello")
    key_file = settings.data_dir / "secret.key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert decrypt(settings, token) == "hello"


def test_secret_key_from_environment_can_be_rotated(monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("ASKVIDEO_SECRET_KEY", old)
    token = encrypt(load_settings(), "my key")
    monkeypatch.setenv("ASKVIDEO_SECRET_KEY", f"{new},{old}")
    assert decrypt(load_settings(), token) == "my key"
    monkeypatch.setenv("ASKVIDEO_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(SettingsError, match="cannot be decrypted"):
        decrypt(load_settings(), token)


def test_the_key_only_ever_goes_to_the_server_it_was_given_for(session, settings):
    """Whoever holds a session cannot read the key; they must not be able to point the endpoint
    at their own server and have the key sent there either."""
    account = make_account(session)
    assert model_settings.set_models(session, account.id, base_url="http://127.0.0.1:11434/v1",
                                     chat_model="llama3.2", embedding_model="") is False
    model_settings.set_api_key(session, settings, account.id, KEY)
    assert model_settings.set_models(session, account.id, base_url="http://127.0.0.1:11434/v1/",
                                     chat_model="qwen3", embedding_model="") is False
    assert model_settings.model_access(session, settings, account.id).api_key == KEY  # same server: kept

    assert model_settings.set_models(session, account.id, base_url="https://collector.example.net/v1",
                                     chat_model="qwen3", embedding_model="") is True
    access = model_settings.model_access(session, settings, account.id)
    assert access.api_key is None and access.base_url == "https://collector.example.net/v1"
    assert not model_settings.get_model_settings(session, settings, account.id).has_api_key
