"""Without a local model, speech-to-text goes to the owner's OpenAI-compatible endpoint."""

from __future__ import annotations

import dataclasses

import pytest

from core import model_settings, processing, speech_to_text
from core.config import load_settings
from db.models import Video
from tests.factories import make_account
from tests.media_factory import video
from tests.test_ingest import upload

KEY = "sk-fake-key-for-tests-1234"


@pytest.fixture
def no_local_model(tmp_path):
    empty = tmp_path / "no-model"
    empty.mkdir()
    return dataclasses.replace(load_settings(), whisper_model_dir=empty)


def _owner(db, settings, *, base_url=None, key=KEY, embedding_model=""):
    with db.session() as s:
        account = make_account(s)
        if base_url:
            model_settings.set_models(s, account.id, base_url=base_url, chat_model="", embedding_model=embedding_model)
        if key:
            model_settings.set_api_key(s, settings, account.id, key)
    return account


def test_long_audio_is_sent_in_pieces_with_the_key_and_times_shifted(clean_db, no_local_model, fake_openai,
                                                                      tmp_path, monkeypatch):
    monkeypatch.setattr(speech_to_text, "OPENAI_PIECE_SECONDS", 4)
    owner = _owner(clean_db, no_local_model, base_url=fake_openai.base_url)
    submitted = upload(clean_db, no_local_model, owner, video(tmp_path / "s.mp4", seconds=9.4, audio="speech"))
    assert processing.process_video(clean_db, no_local_model, submitted.video_id) == "completed"
    calls = [r for r in fake_openai.requests if r.path.endswith("/audio/transcriptions")]
    assert len(calls) == 3
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in calls)
    assert b'name="model"' in calls[0].body and b"whisper-1" in calls[0].body
    assert b"verbose_json" in calls[0].body
    with clean_db.session() as s:
        row = s.get(Video, submitted.video_id)
        starts = [seg["start"] for seg in row.transcript_segments]
        assert row.transcript_source == "openai_whisper"
        assert starts == [0.0, 2.5, 4.0, 6.5, 8.0, 10.5]


def test_refused_key_fails_the_video_with_advice(clean_db, no_local_model, fake_openai, tmp_path):
    fake_openai.fail_with = 401
    owner = _owner(clean_db, no_local_model, base_url=fake_openai.base_url)
    submitted = upload(clean_db, no_local_model, owner, video(tmp_path / "s.mp4", seconds=3, audio="speech"))
    assert processing.process_video(clean_db, no_local_model, submitted.video_id) == "error"
    with clean_db.session() as s:
        assert "refused the API key" in s.get(Video, submitted.video_id).error_message


def test_busy_service_is_retried_then_reported(clean_db, no_local_model, fake_openai, tmp_path):
    from core.errors import TransientIngestError

    fake_openai.fail_with = 500
    owner = _owner(clean_db, no_local_model, base_url=fake_openai.base_url)
    submitted = upload(clean_db, no_local_model, owner, video(tmp_path / "s.mp4", seconds=3, audio="speech"))
    with pytest.raises(TransientIngestError):
        processing.process_video(clean_db, no_local_model, submitted.video_id, final_attempt=False)
    with clean_db.session() as s:
        assert s.get(Video, submitted.video_id).status == "processing"  # waiting for its retry
    assert processing.process_video(clean_db, no_local_model, submitted.video_id, final_attempt=True) == "error"
    with clean_db.session() as s:
        assert "gave up after several tries" in s.get(Video, submitted.video_id).error_message


def test_no_captions_no_model_no_key_explains_every_way_out(clean_db, no_local_model, tmp_path):
    owner = _owner(clean_db, no_local_model, key=None)
    submitted = upload(clean_db, no_local_model, owner, video(tmp_path / "s.mp4", seconds=3, audio="speech"))
    assert processing.process_video(clean_db, no_local_model, submitted.video_id) == "error"
    with clean_db.session() as s:
        message = s.get(Video, submitted.video_id).error_message
    assert "captions file" in message and "Whisper model" in message and "OpenAI API key" in message


def test_openai_embeddings_are_used_when_chosen_and_recorded_per_chunk(clean_db, fake_openai, tmp_path):
    from sqlalchemy import select

    from db.models import TranscriptChunk
    from tests.media_factory import TALK, srt

    settings = load_settings()
    owner = _owner(clean_db, settings, base_url=fake_openai.base_url, embedding_model="text-embedding-3-small")
    submitted = upload(clean_db, settings, owner, video(tmp_path / "v.mp4", seconds=20), captions=srt(TALK))
    assert processing.process_video(clean_db, settings, submitted.video_id) == "completed"
    calls = [r for r in fake_openai.requests if r.path.endswith("/embeddings")]
    assert calls and calls[0].json()["dimensions"] == 384
    with clean_db.session() as s:
        models = set(s.scalars(select(TranscriptChunk.embedding_model)))
    assert models == {"openai:text-embedding-3-small"}


@pytest.mark.parametrize(("status", "transient", "said"), [(429, True, "rate-limiting"), (401, False, "refused the API key")])
def test_a_failing_embedding_provider_is_retried_or_explained(clean_db, fake_openai, tmp_path, status, transient, said):
    """Captions are in, but the owner's embedding provider fails: a busy one is retried, a refused
    key fails the video with the provider's reason instead of "failed unexpectedly"."""
    from core.errors import TransientIngestError
    from tests.media_factory import TALK, srt

    settings = load_settings()
    owner = _owner(clean_db, settings, base_url=fake_openai.base_url, embedding_model="text-embedding-3-small")
    submitted = upload(clean_db, settings, owner, video(tmp_path / "v.mp4", seconds=20), captions=srt(TALK))
    fake_openai.fail_with = status
    if transient:
        with pytest.raises(TransientIngestError, match=said):
            processing.process_video(clean_db, settings, submitted.video_id, final_attempt=False)
        assert processing.process_video(clean_db, settings, submitted.video_id, final_attempt=True) == "error"
    else:
        assert processing.process_video(clean_db, settings, submitted.video_id) == "error"
    with clean_db.session() as s:
        message = s.get(Video, submitted.video_id).error_message
    assert message.startswith("Embedding the transcript failed") and said in message
