"""Share links open one group read-only, and stop working the moment they are revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core import answers, groups, sharing
from core.config import load_settings
from core.sharing import RateLimited, ShareLinkInvalid
from db.models import ChatLog, SharedQuestion
from tests.corpus import ingest_corpus, small_chunks
from tests.factories import make_account


@pytest.fixture
def shared(clean_db, tmp_path):
    settings = small_chunks(load_settings())
    with clean_db.session() as s:
        owner = make_account(s, "owner")
    group_id, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path)
    with clean_db.session() as s:
        token = sharing.create_link(s, owner.id, group_id)
    return settings, owner, group_id, ids, token


def test_link_is_long_random_and_opens_only_its_group(clean_db, shared):
    settings, owner, group_id, ids, token = shared
    assert len(token) >= 43
    with clean_db.session() as s:
        other_group = groups.create_group(s, owner.id, "Private")
        view = sharing.open_link(s, token)
    assert view.group_id == group_id and view.group_id != other_group
    assert [m.title for m in view.members] == list(ids)
    assert not hasattr(view, "share_token") and "owner" not in view.name


@pytest.mark.parametrize("guess", [None, "", "x", "A" * 43, "' OR '1'='1", "a" * 5000])
def test_guessed_or_malformed_tokens_are_not_valid(clean_db, shared, guess):
    with clean_db.session() as s, pytest.raises(ShareLinkInvalid, match="This link is not valid"):
        sharing.open_link(s, guess)


def test_revoked_or_replaced_link_stops_working_at_once(clean_db, shared):
    settings, owner, group_id, ids, token = shared
    with clean_db.session() as s:
        new_token = sharing.create_link(s, owner.id, group_id)
    with clean_db.session() as s, pytest.raises(ShareLinkInvalid):
        sharing.open_link(s, token)
    with clean_db.session() as s:
        sharing.revoke_link(s, owner.id, group_id)
    with clean_db.session() as s, pytest.raises(ShareLinkInvalid):
        sharing.open_link(s, new_token)


def test_only_the_owner_can_share_or_revoke(clean_db, shared):
    settings, owner, group_id, ids, token = shared
    with clean_db.session() as s:
        mallory = make_account(s, "mallory")
    for action in (sharing.create_link, sharing.revoke_link):
        with clean_db.session() as s, pytest.raises(groups.GroupNotFound):
            action(s, mallory.id, group_id)
    with clean_db.session() as s:
        assert sharing.open_link(s, token).group_id == group_id


def test_shared_questions_are_logged_as_shared_and_rateable_by_the_visitor(clean_db, shared):
    settings, owner, group_id, ids, token = shared
    with clean_db.session() as s:
        view = sharing.open_link(s, token)
    prepared = answers.prepare(clean_db, settings, group_id=view.group_id, user_id=view.owner_id,
                               question="Where is the fire extinguisher?", shared=True)
    answer = answers.finish(clean_db, prepared, "".join(answers.stream(prepared)))
    with clean_db.session() as s:
        answers.set_feedback(s, answer.log_id, "good", user_id=view.owner_id, shared_group_id=view.group_id)
    with clean_db.session() as s:
        log = s.get(ChatLog, answer.log_id)
    assert log.is_shared_origin and log.feedback == "good" and log.user_id is None  # a visitor: no member asked
    assert log.workspace_id == view.workspace_id


def test_rate_limit_per_link_stops_a_flood(clean_db, shared):
    """Questions count when asked — an interrupted or failed one cost the owner too — and
    concurrent visitors take turns at the count, so a burst cannot slip past it."""
    from concurrent.futures import ThreadPoolExecutor

    settings, owner, group_id, ids, token = shared

    def ask() -> str:
        try:
            sharing.take_question(clean_db, group_id, per_hour=5)
        except RateLimited as error:
            return str(error)
        return "asked"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: ask(), range(8)))
    assert outcomes.count("asked") == 5
    assert all("limit of 5 questions per hour" in o for o in outcomes if o != "asked")

    with clean_db.session() as s:  # an hour later the link answers again
        s.execute(update(SharedQuestion).values(asked_at=func.now() - timedelta(hours=1)))
        assert sharing.purge_old_questions(s) == 5
    assert ask() == "asked"


def test_asking_through_a_link_meets_its_hourly_limit_whatever_the_front_end(clean_db, shared):
    """The limit is a rule of core: `answers.ask` (and the chat's `begin`) count a shared question
    before answering it; the owner asking their own group is never counted."""
    import dataclasses

    settings, owner, group_id, ids, token = shared
    limited = dataclasses.replace(settings, share_questions_per_hour=2)
    for _ in range(2):
        answer = answers.ask(clean_db, limited, group_id=group_id, user_id=owner.id,
                             question="Where is the fire extinguisher?", shared=True)
        assert answer.citations
    with pytest.raises(RateLimited, match="limit of 2 questions per hour"):
        answers.ask(clean_db, limited, group_id=group_id, user_id=owner.id, question="Where is the exit?",
                    shared=True)
    answers.ask(clean_db, limited, group_id=group_id, user_id=owner.id, question="Where is the exit?")
    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(SharedQuestion)) == 2  # the owner's is not counted
        assert s.scalar(select(func.count()).select_from(ChatLog).where(ChatLog.is_shared_origin)) == 2
