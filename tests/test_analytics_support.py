"""Analytics shows how well answers are backed by their sources, and the least backed come first."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlalchemy import select

from core import analytics
from core.analytics import Filters, Scope
from core.errors import AskVideoError
from db.models import ChatLog
from tests.test_analytics import DAY1, DAY2, seeded  # noqa: F401 — the fixture

# Alice's exchanges by question (seeded order) → support score; None: nothing claimed.
SUPPORT = {"What is the price?": 1.0, "what is the PRICE": 0.5, "Who is the CEO?": None, "Refund policy?": 0.25,
           "How do I reset?": 0.75}


@pytest.fixture
def supported(seeded):  # noqa: F811
    session, alice, bob, g1, g2, *_ = seeded
    for log in session.scalars(select(ChatLog).where(ChatLog.user_id == alice.id)):
        log.support_score = SUPPORT.get(log.question) if log.group_id == g1.id or log.question != "What is the price?" \
            else 0.0
    session.flush()
    return session, alice, g1, g2


def test_average_support_per_group_and_per_day(supported):
    session, alice, *_ = supported
    groups = analytics.support_per_group(session, Scope(alice.id), Filters())
    # Sales: 1.0, 0.5, 0.25 (the CEO question claimed nothing); Support: 0.75 and 0.0. Least first.
    assert groups[["group", "checked", "support"]].values.tolist() == [["Support", 2, 0.375], ["Sales", 3, 0.583]]
    days = analytics.support_per_day(session, Scope(alice.id), Filters())
    assert days["day"].tolist() == [DAY1.date(), DAY2.date()]
    assert days["checked"].tolist() == [2, 3] and days["support"].tolist() == [0.75, 0.333]


def test_the_review_queue_can_put_the_least_supported_first(supported):
    session, alice, *_ = supported
    page = analytics.answers_table(session, Scope(alice.id), Filters(), sort="least_supported")
    assert page.rows["support_score"].tolist()[:5] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert page.rows["question"].tolist()[-1] == "Who is the CEO?"  # nothing claimed: last
    worst = analytics.answers_table(session, Scope(alice.id), Filters())  # still bad, then unrated, first
    assert worst.rows["feedback"].tolist()[:4] == ["bad", "bad", "none", "none"]
    with pytest.raises(AskVideoError):
        analytics.answers_table(session, Scope(alice.id), Filters(), sort="support; DROP TABLE users")


def test_exports_carry_the_support_score(supported):
    session, alice, *_ = supported
    frame = pd.read_csv(io.BytesIO(analytics.export_csv(session, Scope(alice.id), Filters())))
    assert dict(zip(frame["question"], frame["support_score"]))["Refund policy?"] == 0.25
    parquet = pd.read_parquet(io.BytesIO(analytics.export_parquet(session, Scope(alice.id), Filters())))
    assert parquet["support_score"].isna().sum() == 1
