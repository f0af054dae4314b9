"""Reviewers close the loop: a bad answer's right moment is pinned as a regression question of its
group, the product's retriever is checked against those questions, and the check runs again by
itself when what retrieval sees changes."""

from __future__ import annotations

import io
import zipfile
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from bench.quality import load_questions
from core import captions, groups, model_settings, processing, regression, reindex, review, tasks
from core.analytics import Scope
from core.config import load_settings
from core.transcripts import Segment, from_json, to_json
from db.models import RegressionQuestion, User, Video
from tests.corpus import KITCHEN, ONBOARDING, captioned_group, small_chunks
from tests.factories import chat_log, home, make_account

QUESTION = "Where is the fire extinguisher?"


def settings():
    return small_chunks(load_settings())


def bad_answer(db, owner_id: int, group_id: int, question: str = QUESTION) -> int:
    with db.session() as s:
        log = chat_log(user_id=owner_id, group_id=group_id, question=question, answer="I could not find anything.",
                      mode="nothing", related_videos=[], feedback="bad")
        s.add(log)
        s.flush()
        return log.id


@pytest.fixture
def team(clean_db):
    """An owner with a kitchen and an onboarding video in one group, and a bad answer there."""
    with clean_db.session() as s:
        owner = make_account(s, "reviewer")
    group_id, ids = captioned_group(clean_db, owner.id, {"Kitchen safety": KITCHEN, "IT onboarding": ONBOARDING})
    return clean_db, owner, group_id, ids, bad_answer(clean_db, owner.id, group_id)


def queued_checks(db) -> list[dict]:
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'askvideo:run_regression' AND status = 'todo' "
            "ORDER BY id")).scalars()]


def run_queued_checks(db) -> None:
    """What the worker does with each queued check."""
    for args in queued_checks(db):
        tasks.run_regression(**args)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE task_name = 'askvideo:run_regression'"))


def test_a_reviewer_marks_notes_pins_repins_and_removes(team):
    db, owner, group_id, ids, log_id = team
    scope = Scope(owner.id)
    with db.session() as s:
        review.mark_reviewed(s, scope, log_id)
        review.set_note(s, scope, log_id, "  Says nothing, but the <b>kitchen</b> video covers it.  ")
    with db.session() as s:
        state = review.review(s, scope, log_id)
        assert state.reviewed_at is not None and state.reviewed_by == "reviewer"
        assert state.note == "Says nothing, but the <b>kitchen</b> video covers it."  # stored as written; shown escaped
        lines = review.transcript_lines(s, scope, log_id, ids["Kitchen safety"])
        extinguisher = next(line for line in lines if "extinguisher" in line.text)
        pinned = review.pin(s, scope, log_id, video_id=ids["Kitchen safety"], start_s=extinguisher.start,
                            end_s=extinguisher.end)
    assert (pinned.question, pinned.start, pinned.end) == (QUESTION, 10.0, 16.0)

    with db.session() as s:  # pinned again: the moment is replaced, not added
        again = review.pin(s, scope, log_id, video_id=ids["IT onboarding"], start_s=12,
                           question="Which password manager?")
        assert review.pinned_questions(s, scope, group_id) == [again]
    # By time, a pinned moment lasts 30 s, cut at the video's end (31 s here).
    assert (again.id, again.video_id, again.start, again.end) == (pinned.id, ids["IT onboarding"], 12.0, 31.0)
    # a typed second covers PIN_WINDOW_S, within the video (25 s long)

    with db.session() as s:
        review.mark_reviewed(s, scope, log_id, reviewed=False)
        review.set_note(s, scope, log_id, "")
        review.unpin(s, scope, again.id)
    with db.session() as s:
        state = review.review(s, scope, log_id)
        assert (state.reviewed_at, state.note, state.pinned) == (None, "", None)
        with pytest.raises(review.ReviewError, match="at most 2,000"):
            review.set_note(s, scope, log_id, "x" * 2001)
        for start, end in ((-1, None), (float("nan"), None), (10, 5), (10, 10 + 301), (999, None)):
            with pytest.raises(review.ReviewError):
                review.pin(s, scope, log_id, video_id=ids["Kitchen safety"], start_s=start, end_s=end)
        with pytest.raises(review.ReviewError, match="Write the question"):
            review.pin(s, scope, log_id, video_id=ids["Kitchen safety"], start_s=1, question="  ")


def test_another_users_ids_are_refused_and_staff_may_review_everyone(team):
    db, owner, group_id, ids, log_id = team
    with db.session() as s:
        pinned = review.pin(s, Scope(owner.id), log_id, video_id=ids["Kitchen safety"], start_s=10)
        other = make_account(s, "mallory")
    mallory_group, mallory_ids = captioned_group(db, other.id, {"Mallory's": KITCHEN}, "Mine")
    mallory_log = bad_answer(db, other.id, mallory_group)
    mine, theirs = Scope(owner.id), Scope(other.id)
    with db.session() as s:
        for hostile in (log_id, str(log_id), "1; DROP TABLE chat_logs", None, 2**70, -1):
            for action in (lambda: review.review(s, theirs, hostile), lambda: review.mark_reviewed(s, theirs, hostile),
                           lambda: review.set_note(s, theirs, hostile, "mine now"),
                           lambda: review.pin(s, theirs, hostile, video_id=ids["Kitchen safety"], start_s=1)):
                with pytest.raises(review.ReviewError):
                    action()
        with pytest.raises(review.ReviewError, match="not in this exchange's group"):  # her video, my exchange
            review.pin(s, mine, log_id, video_id=mallory_ids["Mallory's"], start_s=1)
        with pytest.raises(review.ReviewError, match="not in this exchange's group"):  # my video, her exchange
            review.pin(s, theirs, mallory_log, video_id=ids["Kitchen safety"], start_s=1)
        with pytest.raises(review.ReviewError):
            review.transcript_lines(s, theirs, log_id, ids["Kitchen safety"])
        with pytest.raises(review.ReviewError):
            review.unpin(s, theirs, pinned.id)
        assert review.pinned_questions(s, theirs, group_id) == []
        assert regression.overview(s, theirs) == [] and regression.still_missed(s, theirs) == []
        for action in (lambda: regression.history(s, theirs, group_id),
                       lambda: regression.export_zip(s, theirs, group_id),
                       lambda: regression.history(s, theirs, "nonsense"),
                       lambda: regression.export_zip(s, mine, 2**70)):
            with pytest.raises(regression.GroupNotFound):
                action()
    with pytest.raises(regression.GroupNotFound):
        regression.queue_run(db, theirs, group_id)
    for hostile in (pinned.id, 2**64, "x"):
        with pytest.raises(regression.GroupNotFound):
            regression.cited_instead(db, load_settings(), theirs, hostile)
    with db.session() as s:
        s.get(User, other.id).is_staff = True
    with db.session() as s:  # staff looking at all users may review anyone's exchange
        review.mark_reviewed(s, Scope(other.id, all_users=True), log_id)
        assert review.review(s, mine, log_id).reviewed_by == "mallory"
        assert [p.id for p in review.pinned_questions(s, Scope(other.id, all_users=True), group_id)] == [pinned.id]


def test_a_run_scores_the_pinned_moments_with_the_products_retriever_and_keeps_its_history(team):
    db, owner, group_id, ids, log_id = team
    scope = Scope(owner.id)
    with db.session() as s:
        found = review.pin(s, scope, log_id, video_id=ids["Kitchen safety"], start_s=10, end_s=16)
    wrong_log = bad_answer(db, owner.id, group_id, "What is the helpdesk extension number?")
    with db.session() as s:  # pinned in the wrong video: retrieval cannot play it
        wrong = review.pin(s, scope, wrong_log, video_id=ids["Kitchen safety"], start_s=0, end_s=3)

    first = regression.run(db, settings(), group_id, regression.MANUAL)
    assert (first.questions, first.found, first.seek_at_5, first.missed) == (2, 1, 0.5, [wrong.id])
    with db.session() as s:
        [score] = regression.overview(s, scope)
        assert (score.group_id, score.questions, score.latest, score.busy) == (group_id, 2, first, False)
        [missed] = regression.still_missed(s, scope)
        assert (missed.question_id, missed.video_title, missed.start) == (wrong.id, "Kitchen safety", 0.0)
    instead = regression.cited_instead(db, settings(), scope, wrong.id)
    assert instead[0]["video_id"] == ids["IT onboarding"] and instead[0]["start"] <= 18

    with db.session() as s:
        review.unpin(s, scope, wrong.id)
    second = regression.run(db, settings(), group_id, regression.MANUAL)
    assert (second.questions, second.found, second.seek_at_5, second.missed) == (1, 1, 1.0, [])
    with db.session() as s:
        assert [r.id for r in regression.history(s, scope, group_id)] == [first.id, second.id]
        assert regression.still_missed(s, scope) == []
        assert found.id in {q.id for q in s.scalars(select(RegressionQuestion))}
    assert regression.run(db, settings(), group_id + 1000, regression.MANUAL) is None  # no such group (deleted)


def test_the_score_changes_when_retrieval_changes_and_reindexing_checks_again_by_itself(team, monkeypatch):
    db, owner, group_id, ids, log_id = team
    monkeypatch.setenv("ASKVIDEO_CHUNK_WORDS", "14")
    monkeypatch.setenv("ASKVIDEO_CHUNK_OVERLAP_WORDS", "0")
    scope = Scope(owner.id)
    with db.session() as s:
        review.pin(s, scope, log_id, video_id=ids["Kitchen safety"], start_s=10, end_s=16)
    assert regression.run(db, settings(), group_id, regression.MANUAL).seek_at_5 == 1.0

    # The kitchen video's transcript is replaced (re-synced captions: every line 40 s later) and
    # re-indexed through the re-index path, as the worker's job does.
    kitchen = ids["Kitchen safety"]
    with db.session() as s:
        video = s.get(Video, kitchen)
        video.transcript_segments = to_json([Segment(a + 40, b + 40, line) for a, b, line in KITCHEN])
    assert reindex.reembed(db, load_settings(), kitchen) == "completed"
    assert queued_checks(db) == [{"group_id": group_id, "reason": regression.REINDEXED}]
    run_queued_checks(db)
    with db.session() as s:
        [score] = regression.overview(s, scope)
        assert (score.latest.reason, score.latest.seek_at_5, score.latest.found) == (regression.REINDEXED, 0.0, 0)
        assert len(regression.history(s, scope, group_id)) == 2


def test_a_new_embedding_model_queues_a_check_once_it_is_saved(team, fake_openai):
    db, owner, group_id, ids, log_id = team
    with db.session() as s:
        review.pin(s, Scope(owner.id), log_id, video_id=ids["Kitchen safety"], start_s=10)
    with db.session() as s:  # the same model again: nothing to check
        model_settings.set_models(s, owner.id, base_url="", chat_model="gpt-x", embedding_model="")
    assert queued_checks(db) == []
    with db.session() as s:
        model_settings.set_models(s, owner.id, base_url=fake_openai.base_url, chat_model="",
                                  embedding_model="text-embedding-3-small")
        assert queued_checks(db) == []  # not before the new model is saved
    assert queued_checks(db) == [{"group_id": group_id, "reason": model_settings.MODEL_CHANGED}]
    run_queued_checks(db)
    with db.session() as s:  # a first key, and its removal, change which model embeds the questions
        model_settings.set_api_key(s, load_settings(), owner.id, "sk-test-0000000000")
    assert len(queued_checks(db)) == 1
    run_queued_checks(db)
    with db.session() as s:
        model_settings.set_api_key(s, load_settings(), owner.id, "sk-test-1111111111")  # another key: same model
    assert queued_checks(db) == []
    with db.session() as s:
        model_settings.remove_api_key(s, owner.id)
    assert len(queued_checks(db)) == 1


def test_a_video_joining_or_leaving_the_group_queues_a_check_once_saved(team):
    db, owner, group_id, ids, log_id = team
    with db.session() as s:
        review.pin(s, Scope(owner.id), log_id, video_id=ids["Kitchen safety"], start_s=10, end_s=16)
        other = Video(user_id=owner.id, workspace_id=home(s, owner.id), title="Office tour", duration_s=30, status="completed")
        s.add(other)
        s.flush()
        other_id = other.id
    with db.session() as s:
        groups.remove_video(s, owner.id, group_id, ids["Kitchen safety"])
        assert queued_checks(db) == []  # not before the change is saved
    assert queued_checks(db) == [{"group_id": group_id, "reason": groups.GROUP_CHANGED}]
    run_queued_checks(db)
    with db.session() as s:
        [score] = regression.overview(s, Scope(owner.id))
        assert (score.latest.reason, score.latest.found) == (groups.GROUP_CHANGED, 0)  # its answer left with it
        groups.remove_video(s, owner.id, group_id, ids["Kitchen safety"])  # not there: nothing changed
        groups.add_videos(s, owner.id, group_id, [ids["IT onboarding"]])  # already there: nothing changed
    assert queued_checks(db) == []
    with db.session() as s:
        groups.add_videos(s, owner.id, group_id, [ids["Kitchen safety"], other_id])
    run_queued_checks(db)
    with db.session() as s:
        [score] = regression.overview(s, Scope(owner.id))
        assert (score.latest.reason, score.latest.found) == (groups.GROUP_CHANGED, 1)
        # A group without pinned questions has nothing to check.
        plain = groups.create_group(s, owner.id, "No pins")
        groups.add_videos(s, owner.id, plain, [other_id])
    assert queued_checks(db) == []


def test_a_check_the_provider_refuses_is_kept_as_a_failed_run_that_says_why(team, fake_openai):
    db, owner, group_id, ids, log_id = team
    scope = Scope(owner.id)
    with db.session() as s:
        review.pin(s, scope, log_id, video_id=ids["Kitchen safety"], start_s=10, end_s=16)
        model_settings.set_models(s, owner.id, base_url=fake_openai.base_url, chat_model="",
                                  embedding_model="text-embedding-3-small")
    fake_openai.fail_with = 401
    failed = regression.run(db, settings(), group_id, regression.MANUAL)
    assert (failed.seek_at_5, failed.found, failed.missed) == (None, 0, [])  # not a score of 0 %: no score
    assert failed.error.startswith("The AI provider refused the API key")
    with db.session() as s:
        [score] = regression.overview(s, scope)
        assert score.latest == failed


def test_the_export_runs_with_the_benchmarks_own_loaders(team, tmp_path):
    db, owner, group_id, ids, log_id = team
    with db.session() as s:
        review.pin(s, Scope(owner.id), log_id, video_id=ids["Kitchen safety"], start_s=10, end_s=16)
        s.get(Video, ids["Kitchen safety"]).transcript_segments = to_json(
            [Segment(0, 2, "Fire --> exit <b>now</b> & then"), *[Segment(*c) for c in KITCHEN[1:]]])
        data = regression.export_zip(s, Scope(owner.id), group_id)
        stored = from_json(s.get(Video, ids["Kitchen safety"]).transcript_segments)
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)
    [question] = load_questions(tmp_path / "questions.jsonl")
    assert (question.video_id, question.text, question.start, question.end) == (str(ids["Kitchen safety"]),
                                                                              QUESTION, 10.0, 16.0)
    videos = (tmp_path / "videos.jsonl").read_text().splitlines()
    assert len(videos) == 1 and f'"video_id": "{ids["Kitchen safety"]}"' in videos[0]
    assert captions.parse_captions((tmp_path / "captions" / f"{question.video_id}.vtt").read_bytes()) == stored


def test_a_video_processed_again_queues_its_groups_check(team, monkeypatch):
    db, owner, group_id, ids, log_id = team
    with db.session() as s:
        review.pin(s, Scope(owner.id), log_id, video_id=ids["Kitchen safety"], start_s=10)
    monkeypatch.setattr(processing, "process_video", lambda *args, **kwargs: "completed")  # its body: test_ingest
    assert tasks.process_video(SimpleNamespace(job=None), ids["IT onboarding"]) == "completed"
    assert queued_checks(db) == [{"group_id": group_id, "reason": regression.REPROCESSED}]
    run_queued_checks(db)
    monkeypatch.setattr(processing, "process_video", lambda *args, **kwargs: "error")
    tasks.process_video(SimpleNamespace(job=None), ids["IT onboarding"])
    assert queued_checks(db) == []
