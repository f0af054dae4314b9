"""A user's model settings: their OpenAI API key (encrypted, never shown back), an optional
OpenAI-compatible base URL (a local Ollama or vLLM) and model names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import workspaces
from core.config import Settings
from core.encryption import decrypt, encrypt
from core.errors import SettingsError
from core.queue import defer_regression_after_commit
from db.models import RegressionQuestion, User, VideoGroup, WorkspaceMember

MODEL_CHANGED = "model changed"  # a regression run's reason (core/regression.py names the others)


@dataclass(frozen=True)
class ModelSettings:
    """What the Settings page may show: the key only as a mask."""

    has_api_key: bool
    masked_api_key: str
    base_url: str
    chat_model: str
    embedding_model: str


@dataclass(frozen=True)
class ModelAccess:
    """What the answer and ingestion code needs to call a model; never sent to a page."""

    api_key: str | None
    base_url: str | None
    chat_model: str
    embedding_model: str

    @property
    def remote(self) -> bool:
        """True when a chat model can be called (a key, or a keyless local endpoint)."""
        return bool(self.api_key or self.base_url)


def mask(api_key: str) -> str:
    if len(api_key) <= 8:
        return "•" * len(api_key)
    return f"{api_key[:3]}…{api_key[-4:]}"


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise SettingsError("Account not found.")
    return user


def get_model_settings(session: Session, settings: Settings, user_id: int) -> ModelSettings:
    user = _user(session, user_id)
    key = decrypt(settings, user.encrypted_openai_api_key) if user.encrypted_openai_api_key else ""
    return ModelSettings(
        has_api_key=bool(key),
        masked_api_key=mask(key) if key else "",
        base_url=user.openai_base_url or "",
        chat_model=user.chat_model or settings.chat_model,
        embedding_model=user.embedding_model or settings.embedding_model,
    )


def model_access(session: Session, settings: Settings, user_id: int) -> ModelAccess:
    user = _user(session, user_id)
    return ModelAccess(
        api_key=decrypt(settings, user.encrypted_openai_api_key) if user.encrypted_openai_api_key else None,
        base_url=user.openai_base_url or settings.openai_base_url,
        chat_model=user.chat_model or settings.chat_model,
        embedding_model=user.embedding_model or settings.embedding_model,
    )


def workspace_access(session: Session, settings: Settings, workspace_id: int) -> ModelAccess:
    """The models a workspace's videos are indexed and its questions answered with: those of the
    account `workspaces.model_holder` names."""
    return model_access(session, settings, workspaces.model_holder(session, workspace_id))


def set_api_key(session: Session, settings: Settings, user_id: int, api_key: str) -> None:
    api_key = api_key.strip()
    if not api_key:
        raise SettingsError("Paste a key, or use “Remove key”.")
    if len(api_key) > 500 or any(c.isspace() for c in api_key):
        raise SettingsError("That does not look like an API key (no spaces, at most 500 characters).")
    user = _user(session, user_id)
    if not user.encrypted_openai_api_key:  # a first key may take questions from the local model to the chosen one
        _recheck_regressions_after_commit(session, user_id)
    user.encrypted_openai_api_key = encrypt(settings, api_key)


def remove_api_key(session: Session, user_id: int) -> None:
    user = _user(session, user_id)
    if user.encrypted_openai_api_key:  # without a key, questions may fall back to the local model
        _recheck_regressions_after_commit(session, user_id)
    user.encrypted_openai_api_key = None


def set_models(
    session: Session, user_id: int, *, base_url: str, chat_model: str, embedding_model: str
) -> bool:
    """Save the endpoint and model names; blank values fall back to the installation's defaults.

    A stored key goes only to the host it was given for: moving the endpoint to another host
    removes it (returns True), so whoever holds a session cannot send the key to a server of
    theirs — the key is never shown back, and must not leave another way."""
    base_url = base_url.strip()
    if base_url:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError("Base URL must start with http:// or https://, e.g. http://localhost:11434/v1")
    for name, value in (("Chat model", chat_model), ("Embedding model", embedding_model)):
        if len(value.strip()) > 200:
            raise SettingsError(f"{name} name is too long.")
    user = _user(session, user_id)
    if (user.embedding_model or "") != embedding_model.strip() or (user.openai_base_url or "") != base_url:
        _recheck_regressions_after_commit(session, user_id)
    key_removed = bool(user.encrypted_openai_api_key) and (
        urlparse(user.openai_base_url or "").netloc.lower() != urlparse(base_url).netloc.lower())
    if key_removed:
        user.encrypted_openai_api_key = None
    user.openai_base_url = base_url or None
    user.chat_model = chat_model.strip() or None
    user.embedding_model = embedding_model.strip() or None
    return key_removed


def _recheck_regressions_after_commit(session: Session, user_id: int) -> None:
    """Once the new embedding model is saved, queue a check of the regression questions of the
    groups in the workspaces whose models are the user's. (Videos indexed with the old model then
    show as misses until re-indexed, whose completion queues another check.)"""
    groups = session.execute(
        select(VideoGroup.id, VideoGroup.workspace_id).where(
            VideoGroup.workspace_id.in_(select(WorkspaceMember.workspace_id).where(WorkspaceMember.user_id == user_id)),
            select(RegressionQuestion.id).where(RegressionQuestion.group_id == VideoGroup.id).exists())).all()
    defer_regression_after_commit(session, [g for g, w in groups if workspaces.model_holder(session, w) == user_id],
                                  MODEL_CHANGED)


def checks_claims_with_model(session: Session, user_id: int) -> bool:
    """Whether the user agreed to one extra model call per answer to check its claims."""
    return bool(_user(session, user_id).check_claims_with_model)


def set_check_claims_with_model(session: Session, user_id: int, enabled: bool) -> None:
    _user(session, user_id).check_claims_with_model = bool(enabled)


def reranks_with_model(session: Session, user_id: int) -> bool:
    """Whether the user agreed to one extra model call per question to re-rank what retrieval found."""
    return bool(_user(session, user_id).rerank_with_model)


def set_rerank_with_model(session: Session, user_id: int, enabled: bool) -> None:
    _user(session, user_id).rerank_with_model = bool(enabled)
