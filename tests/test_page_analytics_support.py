"""Analytics shows the support score: per day, per group, in the review queue and its order."""

from __future__ import annotations

from tests.factories import chat_log, personal_group
from tests.app_driver import signed_in_app


def review_queue(at):
    return next(d.value for d in at.dataframe if "support_score" in d.value.columns)


def test_support_figures_and_the_least_supported_first(clean_db):
    at, account = signed_in_app(clean_db, page="pages/analytics.py")
    with clean_db.session() as s:
        group = personal_group(s, account.id, "Handbook")
        for n, score in enumerate([0.9, 0.2, None, 0.6]):
            s.add(chat_log(user_id=account.id, group_id=group.id, question=f"Question {n}", answer=f"Answer {n} [1].",
                          mode="llm", related_videos=[], support_score=score, feedback="bad" if n == 0 else None))
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert not at.exception, at.exception
    at.session_state["analytics-tab"] = "Overview"
    at.run()
    assert {"Support per day", "Support per group"} <= {h.value for h in at.subheader}
    at.session_state["analytics-tab"] = "Review"
    at.run()
    queue = review_queue(at)
    assert queue["question"].tolist()[0] == "Question 0"  # bad first, as before
    at.selectbox(key="review-sort").select("least_supported").run()
    assert not at.exception, at.exception
    queue = review_queue(at)
    assert queue["question"].tolist() == ["Question 1", "Question 3", "Question 0", "Question 2"]
    assert queue["support_score"].tolist()[:3] == [0.2, 0.6, 0.9]
