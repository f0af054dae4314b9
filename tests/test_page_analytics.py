"""The Analytics page renders with no data, with real exchanges, and with 100,000 chat logs."""

from __future__ import annotations

import time

from sqlalchemy import text

from core import analytics, model_settings, queue, regression, review, tasks
from core.analytics import Scope
from tests.app_driver import errors, signed_in_app
from tests.factories import chat_log, personal_group
from tests.test_regression import KITCHEN, ONBOARDING, bad_answer, captioned_group, queued_checks, settings


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_empty_analytics_explains_itself(clean_db):
    at, _ = signed_in_app(clean_db, page="pages/analytics.py")
    assert at.title[0].value == "Analytics"
    assert metric(at, "Questions asked") == "0" and metric(at, "Good rate") == "–"
    assert "Nothing to show" in at.info[0].value


def test_hundred_thousand_logs_stay_responsive(clean_db):
    at, account = signed_in_app(clean_db, page="pages/analytics.py", timeout=120)
    with clean_db.session() as s:
        group = personal_group(s, account.id, "Busy group")
        conversation = s.execute(text(  # all in one conversation: what Analytics reads is the logs
            "INSERT INTO conversations (user_id, workspace_id, scope, group_id, title) "
            "VALUES (:u, :w, 'group', :g, 'Busy') RETURNING id"),
            {"u": account.id, "w": group.workspace_id, "g": group.id}).scalar()
        s.execute(text(
            "INSERT INTO chat_logs (user_id, workspace_id, group_id, conversation_id, question, answer, mode,"
            " related_videos, is_shared_origin, feedback, created_at) SELECT :u, :w, :g, :c, 'Question ' || (n % 500), 'Answer ' || n, 'llm', "
            " jsonb_build_array(jsonb_build_object('video_id', n % 7, 'title', 'Video ' || (n % 7), 'start', n % 600,"
            " 'end', n % 600 + 20, 'score', 0.5)), n % 5 = 0,"
            " CASE WHEN n % 3 = 0 THEN 'good' WHEN n % 3 = 1 THEN 'bad' END,"
            " now() - (n % 20) * interval '1 day' FROM generate_series(1, 100000) AS n"),
            {"u": account.id, "w": group.workspace_id, "g": group.id, "c": conversation})
    started = time.perf_counter()
    next(b for b in at.button if b.label == "Refresh").click().run()
    elapsed = time.perf_counter() - started
    assert not at.exception, at.exception
    assert metric(at, "Questions asked") == "100,000"
    assert metric(at, "Good rate") == "50%"  # 33,333 good of 66,667 rated
    assert any(c.value.startswith("Page 1 of 4000") for c in at.caption), [c.value for c in at.caption]
    assert elapsed < 60  # generous: this is a smoke test, the figures live in BENCHMARKS.md
    at.selectbox(key="review-open").select(at.selectbox(key="review-open").options[1]).run()
    assert not at.exception and any(m.value.startswith("**Q:**") for m in at.markdown)


def test_each_tab_draws_only_its_own_sections(clean_db):
    at, account = signed_in_app(clean_db, page="pages/analytics.py")
    with clean_db.session() as s:
        group = personal_group(s, account.id, "Handbook")
        for n in range(3):
            s.add(chat_log(user_id=account.id, group_id=group.id, question="Where is the <b>fire</b> exit?",
                           answer=f"Answer {n}.", mode="extractive", related_videos=[], feedback="good"))
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert not at.exception, at.exception

    def sections():
        return [h.value for h in at.subheader]

    assert sections()[0] == "Answers to review" and "Questions per day" not in sections()  # the queue opens first
    assert metric(at, "Questions asked") == "3"  # the headline stays above every tab
    at.session_state["analytics-tab"] = "Overview"
    at.run()
    assert "Questions per day" in sections() and "Answers to review" not in sections()
    assert len(at.get("vega_lite_chart")) >= 2  # drawn as charts
    at.session_state["analytics-tab"] = "Questions"
    at.run()
    assert sections() == ["Most frequent questions", "Export"]
    frequent = at.dataframe[0].value
    assert (frequent["question"].tolist(), frequent["asked"].tolist()) == (["where is the bfireb exit"], [3])  # normalised, as text
    next(b for b in at.button if b.label == "Prepare export of the filtered chat logs").click().run()
    assert not at.exception, at.exception
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download Parquet"]
    at.session_state["analytics-tab"] = "Processing"
    at.run()
    assert sections() == ["Ingestion status", "Processing time per hour of video"]


def test_a_refusal_opens_with_the_moments_it_offered_not_as_citations(clean_db):
    at, account = signed_in_app(clean_db, page="pages/analytics.py")
    with clean_db.session() as s:
        group = personal_group(s, account.id, "Handbook")
        offered = {"n": 1, "video_id": 7, "title": "Kitchen safety", "start": 10.0, "end": 18.0, "score": 0.1,
                   "snippet": "The extinguisher hangs by the elevator."}
        s.add(chat_log(user_id=account.id, group_id=group.id, question="Where do I find the red cylinder?",
                       answer="I could not find anything about that.", mode="nothing", related_videos=[],
                       closest_moments=[offered]))
        s.flush()
        log_id = s.scalar(text("SELECT max(id) FROM chat_logs"))
    next(b for b in at.button if b.label == "Refresh").click().run()
    at.selectbox(key="review-open").select(log_id).run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("Nothing was found; these moments came closest") for c in at.caption)
    assert any(b.label == "[1] Kitchen safety · 00:10–00:18" for b in at.button)


def test_a_reviewer_marks_notes_and_pins_the_moment_and_sees_the_groups_regression_score(clean_db):
    at, account = signed_in_app(clean_db, page="pages/analytics.py")
    plants = [(0.0, 5.0, "Welcome to a long talk about the office plants."),
              (120.0, 125.0, "Water the ferns every Friday afternoon.")]
    group_id, ids = captioned_group(clean_db, account.id, {"Kitchen safety": KITCHEN, "IT onboarding": ONBOARDING,
                                                           "Office plants": plants})
    log_id = bad_answer(clean_db, account.id, group_id)
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert any(c.value.startswith("No pinned questions yet") for c in at.caption)

    at.selectbox(key="review-open").select(log_id).run()
    assert "Not reviewed yet" in [c.value for c in at.caption]
    next(b for b in at.button if b.label == "Mark reviewed").click().run()
    assert any(c.value.startswith("Reviewed by alice") for c in at.caption), [c.value for c in at.caption]
    next(t for t in at.text_area if t.label == "Reviewer's note").input("<img src=x onerror=alert(1)> [link](x)")
    next(b for b in at.button if b.label == "Save note").click().run()
    assert not at.exception, at.exception
    note = next(m.value for m in at.markdown if m.value.startswith("**Note:**"))
    assert "\\<img" in note and "\\[link\\]\\(x\\)" in note  # shown as text, never as HTML or a link

    at.selectbox(key=f"pin-video-{log_id}").select(ids["Kitchen safety"]).run()
    lines = at.selectbox(key=f"pin-line-{log_id}-{ids['Kitchen safety']}")
    lines.select(next(o for o in lines.options if "extinguisher" in o)).run()
    next(b for b in at.button if b.label == "Play from there").click().run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Pin this moment").click().run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("Pinned: “Where is the fire extinguisher?”") and "00:10–00:16" in m.value
               for m in at.markdown), [m.value for m in at.markdown]
    assert queued_checks(clean_db) == [{"group_id": group_id, "reason": "pinned"}]
    scores = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert scores["status"].tolist() == ["queued"]

    for args in queued_checks(clean_db):  # what the worker does
        tasks.run_regression(**args)
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert metric(at, "Regression seek@5") == "100%"
    assert any(c.value.startswith("Last checked") and "1 of 1 question found" in c.value for c in at.caption)

    at.session_state["review-view"] = "regressions"
    at.run()
    assert not at.exception, at.exception
    assert "No pinned question is missed" in " ".join(c.value for c in at.caption)

    # A second bad answer pinned (by time) where retrieval cannot find it: the regressions view lists it.
    other = bad_answer(clean_db, account.id, group_id, "What is the helpdesk extension number?")
    at.session_state["review-view"] = "answers"
    next(b for b in at.button if b.label == "Refresh").click().run()
    at.selectbox(key="review-open").select(other).run()
    at.selectbox(key=f"pin-video-{other}").select(ids["Office plants"]).run()
    at.radio(key=f"pin-how-{other}").set_value("By time").run()
    at.text_input(key=f"pin-time-{other}").input("soon").run()
    assert "is not a time" in errors(at)[0]
    at.text_input(key=f"pin-time-{other}").input("1:00").run()
    next(b for b in at.button if b.label == "Pin this moment").click().run()
    assert any(m.value.startswith("Pinned: “What is the helpdesk") and "01:00–01:30" in m.value for m in at.markdown)
    tasks.run_regression(group_id, "pinned")  # the worker, for the check the pin queued
    at.session_state["review-view"] = "regressions"
    next(b for b in at.button if b.label == "Refresh").click().run()
    missed = next(d.value for d in at.dataframe if "cited" in d.value.columns)
    assert missed["question"].tolist() == ["What is the helpdesk extension number?"]
    assert missed["pinned"].tolist() == ["Office plants @ 01:00–01:30"]
    assert missed["cited"][0].startswith("IT onboarding @ 00:1")
    assert metric(at, "Regression seek@5") == "50%"


def a_pinned_kitchen_group(db, owner_id: int) -> int:
    """A group with the kitchen talk and a bad answer whose right moment is pinned."""
    group_id, ids = captioned_group(db, owner_id, {"Kitchen safety": KITCHEN})
    log_id = bad_answer(db, owner_id, group_id)
    with db.session() as s:
        review.pin(s, Scope(owner_id), log_id, video_id=ids["Kitchen safety"], start_s=10, end_s=16)
    return group_id


def test_run_again_says_so_when_the_queue_cannot_be_reached(clean_db, monkeypatch):
    at, account = signed_in_app(clean_db, page="pages/analytics.py")
    group_id = a_pinned_kitchen_group(clean_db, account.id)
    regression.run(clean_db, settings(), group_id, regression.MANUAL)

    def unreachable(url):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(queue, "_deferrer", unreachable)
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert metric(at, "Regression seek@5") == "100%"
    next(b for b in at.button if b.label == "Run again").click().run()
    assert not at.exception, at.exception
    assert "job queue could not be reached" in errors(at)[0]


def test_a_check_that_could_not_run_says_why_instead_of_a_score(clean_db, fake_openai):
    at, account = signed_in_app(clean_db, page="pages/analytics.py")
    group_id = a_pinned_kitchen_group(clean_db, account.id)
    with clean_db.session() as s:
        model_settings.set_models(s, account.id, base_url=fake_openai.base_url, chat_model="",
                                  embedding_model="text-embedding-3-small")
    fake_openai.fail_with = 401
    regression.run(clean_db, settings(), group_id, regression.MANUAL)
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert not at.exception, at.exception
    assert metric(at, "Regression seek@5") == "–"
    assert any("could not run: The AI provider refused the API key" in c.value for c in at.caption)


def test_a_reviewer_who_looks_at_another_tab_comes_back_to_the_exchange_they_had_open(clean_db):
    at, account = signed_in_app(clean_db, page="pages/analytics.py")
    with clean_db.session() as s:
        group = personal_group(s, account.id, "Handbook")
        logs = [chat_log(user_id=account.id, group_id=group.id, question=f"Question {n}?", answer=f"Answer {n}.",
                         mode="extractive", related_videos=[], feedback="bad") for n in range(3)]
        s.add_all(logs)
        s.flush()
        second = logs[1].id
    next(b for b in at.button if b.label == "Refresh").click().run()
    order = next(o for o in analytics.SORTS if o != at.selectbox(key="review-sort").value)
    at.selectbox(key="review-sort").select(order).run()
    at.selectbox(key="review-open").select(second).run()
    assert any(m.value.startswith("**Q:** Question 1?") for m in at.markdown)

    at.session_state["analytics-tab"] = "Overview"
    at.run()
    at.session_state["analytics-tab"] = "Review"
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="review-sort").value == order
    assert at.selectbox(key="review-open").value == second
    assert any(m.value.startswith("**Q:** Question 1?") for m in at.markdown)
