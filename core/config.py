"""Settings read once from the environment into one typed object.

Every process (Streamlit, worker, CLI, tests) builds the same `Settings` from the same
variables, so they all agree on the database, the media directory and the secret key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from core.address_policy import AddressPolicy, parse_networks

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Sentence BM25's weight in the retriever's fusion (the other rankings weigh 1.0); measured
# 0.3–1.0 on TutorialVQA dev, 0.5 best (BENCHMARKS.md). Here so settings and retriever share it.
SENTENCE_KEYWORD_WEIGHT = 0.5


class SignUpMode(StrEnum):
    """Who may create an account (ASKVIDEO_SIGNUP); an invitation lets anyone in under every mode."""

    OPEN = "open"  # anyone who reaches the server
    INVITE = "invite"  # only with an invitation from staff
    DOMAIN = "domain"  # only emails under ASKVIDEO_SIGNUP_DOMAINS


_DOMAIN_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _sign_up_rules(raw_mode: str | None, raw_domains: str | None) -> tuple[SignUpMode, tuple[str, ...]]:
    """ASKVIDEO_SIGNUP and ASKVIDEO_SIGNUP_DOMAINS, checked so a typo stops the app at start
    instead of leaving sign-up more open than meant."""
    try:
        mode = SignUpMode((raw_mode or "open").strip().lower())
    except ValueError:
        raise ValueError(f"ASKVIDEO_SIGNUP: “{raw_mode}” is not a sign-up mode; use open, invite or domain.") from None
    domains = []
    for item in (raw_domains or "").split(","):
        domain = item.strip().lower().removeprefix("@")
        if not domain:
            continue
        if not _DOMAIN_RE.match(domain):
            raise ValueError(f"ASKVIDEO_SIGNUP_DOMAINS: “{item.strip()}” is not a domain (write it like example.com).")
        domains.append(domain)
    if mode is SignUpMode.DOMAIN and not domains:
        raise ValueError("ASKVIDEO_SIGNUP=domain needs ASKVIDEO_SIGNUP_DOMAINS, e.g. example.com,corp.example.com.")
    if mode is not SignUpMode.DOMAIN and domains:
        raise ValueError(f"ASKVIDEO_SIGNUP_DOMAINS is set but ASKVIDEO_SIGNUP is {mode.value}: "
                         "set ASKVIDEO_SIGNUP=domain to limit sign-up to those domains, or unset the domains.")
    return mode, tuple(dict.fromkeys(domains))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None  # None: use the embedded PostgreSQL under data_dir/pg
    media_dir: Path
    secret_keys: str | None  # Fernet keys, comma-separated, newest first; None: data_dir/secret.key
    default_video_limit: int
    session_days: int
    min_password_length: int
    openai_base_url: str | None
    chat_model: str
    embedding_model: str
    max_upload_mb: int
    whisper_model_dir: Path | None  # None: build Whisper base from the PyPI parts on first use
    caption_languages: tuple[str, ...]  # preferred caption languages, most wanted first
    chunk_words: int
    chunk_overlap_words: int
    stalled_worker_seconds: int  # a worker silent this long is dead; its jobs are retried
    top_k: int  # passages retrieved per question
    history_turns: int  # earlier exchanges used to understand a follow-up question
    share_questions_per_hour: int  # per shared link, all visitors together
    min_relevance: float  # cosine similarity that makes a passage count as found without its keywords
    llm_timeout_s: int
    sparse_weight: float  # weight of the BM25 ranking in the fusion (chunk vectors are 1.0)
    sentence_weight: float  # weight of the best-sentence ranking in the fusion
    sentence_keyword_weight: float  # weight of the sentence-BM25 ranking in the fusion
    embed_titles: bool  # embed each chunk with its video's title in front (contextual chunks)
    public_url: str | None  # how people reach the app, for share links; None: the URL the owner is using
    fetch_policy: AddressPolicy  # which addresses a user's link may make the server connect to
    signup_mode: SignUpMode  # who may create an account
    signup_domains: tuple[str, ...]  # email domains that may sign up in domain mode (exact, lowercase)
    # Company sign-in (`[auth]` in .streamlit/secrets.toml): which of its providers the button uses
    # (None: the default one), and whether password sign-in stays offered beside it.
    company_provider: str | None = None
    password_sign_in: bool = True
    api_calls_per_minute: int = 60  # per personal access token, REST API and MCP together
    screen_text: bool = True  # read the text on screen during processing (a video can also opt out)
    screen_text_workers: int = 2  # OCR processes per video being processed
    screen_weight: float = 1.0  # a screen passage's fused score against a spoken chunk's (retrieval)

    @property
    def embedded_pg_dir(self) -> Path:
        return self.data_dir / "pg"


def load_settings() -> Settings:
    """Build the settings from environment variables (see README, "Configuration")."""
    signup_mode, signup_domains = _sign_up_rules(os.environ.get("ASKVIDEO_SIGNUP"),
                                                 os.environ.get("ASKVIDEO_SIGNUP_DOMAINS"))
    data_dir = Path(os.environ.get("ASKVIDEO_DATA_DIR") or PROJECT_ROOT / ".data").resolve()
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or None,
        media_dir=Path(os.environ.get("ASKVIDEO_MEDIA_DIR") or data_dir / "media").resolve(),
        secret_keys=os.environ.get("ASKVIDEO_SECRET_KEY") or None,
        default_video_limit=_int("ASKVIDEO_VIDEO_LIMIT", 100),
        session_days=_int("ASKVIDEO_SESSION_DAYS", 7),
        min_password_length=_int("ASKVIDEO_MIN_PASSWORD_LENGTH", 10),
        openai_base_url=os.environ.get("OPENAI_BASE_URL") or None,
        chat_model=os.environ.get("ASKVIDEO_CHAT_MODEL", "gpt-4o-mini"),
        embedding_model=os.environ.get("ASKVIDEO_EMBEDDING_MODEL", "all-MiniLM-L6-v2"),
        max_upload_mb=_int("ASKVIDEO_MAX_UPLOAD_MB", 2048),
        whisper_model_dir=Path(os.environ["ASKVIDEO_WHISPER_MODEL_DIR"]).resolve()
        if os.environ.get("ASKVIDEO_WHISPER_MODEL_DIR")
        else None,
        caption_languages=tuple(
            lang.strip() for lang in os.environ.get("ASKVIDEO_CAPTION_LANGUAGES", "en").split(",") if lang.strip()
        ),
        # Measured on TutorialVQA (BENCHMARKS.md): with citations starting at the best sentence,
        # 100-word chunks overlapping by half rank best.
        chunk_words=_int("ASKVIDEO_CHUNK_WORDS", 100),
        chunk_overlap_words=_int("ASKVIDEO_CHUNK_OVERLAP_WORDS", 50),
        stalled_worker_seconds=_int("ASKVIDEO_STALLED_WORKER_SECONDS", 60),
        top_k=_int("ASKVIDEO_TOP_K", 12),
        history_turns=_int("ASKVIDEO_HISTORY_TURNS", 3),
        share_questions_per_hour=_int("ASKVIDEO_SHARE_QUESTIONS_PER_HOUR", 30),
        min_relevance=float(os.environ.get("ASKVIDEO_MIN_RELEVANCE") or 0.45),
        llm_timeout_s=_int("ASKVIDEO_LLM_TIMEOUT", 60),
        sparse_weight=float(os.environ.get("ASKVIDEO_SPARSE_WEIGHT") or 1.0),
        sentence_weight=float(os.environ.get("ASKVIDEO_SENTENCE_WEIGHT") or 1.0),
        sentence_keyword_weight=float(os.environ.get("ASKVIDEO_SENTENCE_KEYWORD_WEIGHT")
                                      or SENTENCE_KEYWORD_WEIGHT),
        embed_titles=os.environ.get("ASKVIDEO_EMBED_TITLES", "0") == "1",
        public_url=(os.environ.get("ASKVIDEO_PUBLIC_URL") or "").rstrip("/") or None,
        fetch_policy=AddressPolicy(parse_networks(os.environ.get("ASKVIDEO_ALLOWED_PRIVATE_NETWORKS"))),
        signup_mode=signup_mode,
        signup_domains=signup_domains,
        company_provider=os.environ.get("ASKVIDEO_COMPANY_PROVIDER") or None,
        password_sign_in=os.environ.get("ASKVIDEO_PASSWORD_SIGN_IN", "on").lower() not in ("off", "0", "false", "no"),
        api_calls_per_minute=_int("ASKVIDEO_API_CALLS_PER_MINUTE", 60),
        screen_text=os.environ.get("ASKVIDEO_SCREEN_TEXT", "on").lower() not in ("off", "0", "false", "no"),
        screen_text_workers=max(1, _int("ASKVIDEO_SCREEN_TEXT_WORKERS", 2)),
        screen_weight=float(os.environ.get("ASKVIDEO_SCREEN_WEIGHT") or 1.0),
    )
