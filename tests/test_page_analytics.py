"""The Analytics page renders with no data, with real exchanges, and with 100,000 chat logs."""

from __future__ import annotations

import time

from sqlalchemy import text

from db.models import VideoGroup
from tests.app_driver import signed_in_app


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
        group = VideoGroup(user_id=account.id, name="Busy group")
        s.add(group)
        s.flush()
        s.execute(text(
            "INSERT INTO chat_logs (user_id, group_id, question, answer, mode, related_videos, is_shared_origin,"
            " feedback, created_at) SELECT :u, :g, 'Question ' || (n % 500), 'Answer ' || n, 'llm', "
            " jsonb_build_array(jsonb_build_object('video_id', n % 7, 'title', 'Video ' || (n % 7), 'start', n % 600,"
            " 'end', n % 600 + 20, 'score', 0.5)), n % 5 = 0,"
            " CASE WHEN n % 3 = 0 THEN 'good' WHEN n % 3 = 1 THEN 'bad' END,"
            " now() - (n % 20) * interval '1 day' FROM generate_series(1, 100000) AS n"),
            {"u": account.id, "g": group.id})
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
