"""An owner who allows it gets retrieval's top moments re-ranked by their chat model, in one call."""

from __future__ import annotations

import pytest

from core import answers, model_settings, retrieval
from core.config import load_settings
from core.embeddings import LocalMiniLM
from tests.corpus import ingest_corpus, small_chunks
from tests.factories import home, make_account

QUESTION = "Where is the fire extinguisher?"


@pytest.fixture
def setup(clean_db, tmp_path, fake_openai):
    settings = small_chunks(load_settings())
    with clean_db.session() as s:
        owner = make_account(s, "reranker")
    group_id, _ = ingest_corpus(clean_db, settings, owner.id, tmp_path)
    with clean_db.session() as s:
        model_settings.set_models(s, owner.id, base_url=fake_openai.base_url, chat_model="fake-chat", embedding_model="")
        model_settings.set_api_key(s, settings, owner.id, "sk-test-rerank-0000")

    with clean_db.session() as s:
        workspace_id = home(s, owner.id)

    def hits(*, rerank: bool = True, question: str = QUESTION):
        return retrieval.group_retriever(clean_db.session, settings, LocalMiniLM(), group_id=group_id,
                                         workspace_id=workspace_id, rerank=rerank).hits(question)

    def allow(enabled: bool) -> None:
        with clean_db.session() as s:
            model_settings.set_rerank_with_model(s, owner.id, enabled)

    def ask():
        return answers.prepare(clean_db, settings, group_id=group_id, user_id=owner.id, question=QUESTION)

    hits.ask = ask
    return hits, allow, fake_openai


def chat_calls(fake):
    return [r for r in fake.requests if r.is_chat]


def test_without_consent_no_model_call_is_made(setup):
    hits, _, fake = setup
    assert len(hits()) >= 3 and chat_calls(fake) == []


def test_with_consent_one_call_puts_the_models_order_first_and_keeps_every_moment(setup):
    hits, allow, fake = setup
    fused = hits()
    allow(True)
    fake.rewrite_reply = "3, 1"
    reranked = hits()
    [call] = chat_calls(fake)
    sent = call.json()["messages"][-1]["content"]
    assert len(fused) > 8 and QUESTION in sent  # the top 8 go to the model, the rest keep their place
    assert '<passage id="8">' in sent and '<passage id="9">' not in sent
    assert [h.chunk_id for h in reranked] == [fused[2].chunk_id, fused[0].chunk_id, fused[1].chunk_id] + [
        h.chunk_id for h in fused[3:]]


def test_a_failed_or_unusable_rerank_keeps_the_fused_order(setup):
    hits, allow, fake = setup
    fused = [h.chunk_id for h in hits()]
    allow(True)
    fake.rewrite_reply = "I cannot rank these."
    assert [h.chunk_id for h in hits()] == fused
    fake.fail_with = 500
    assert [h.chunk_id for h in hits()] == fused


def test_background_checks_never_rerank(setup):
    hits, allow, fake = setup
    allow(True)
    hits(rerank=False)  # what a regression check asks: the fused order, no call on the owner's account
    assert chat_calls(fake) == []


def test_a_question_asked_in_the_chat_is_reranked_once_its_owner_allows_it(setup):
    hits, allow, fake = setup
    fused = [h.chunk_id for h in hits(rerank=False)]
    hits.ask()
    assert chat_calls(fake) == []  # off by default: the chat's question costs no extra call
    allow(True)
    fake.rewrite_reply = "2"
    prepared = hits.ask()
    assert len(chat_calls(fake)) == 1 and prepared.passages  # the one re-ranking call, before any answer
    assert prepared.passages[0].snippet in next(h.text for h in hits(rerank=False) if h.chunk_id == fused[1])


def test_a_question_far_from_every_moment_is_not_reranked(setup):
    hits, allow, fake = setup
    allow(True)
    far = hits(question="What is the capital of Mongolia?")
    assert far and not retrieval.is_near(far) and chat_calls(fake) == []  # refused unread: no call to order them
