"""The Library's rules that need no page: how long a video still takes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.library import minutes_left

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_a_long_video_estimates_its_time_left_from_its_pace_so_far():
    # 1 % at the start, 31 % after five minutes: 30 points in 5 min, 69 to go, about 11.5 min.
    assert minutes_left(31, _ago(300), 3600, NOW) == 12
    assert minutes_left(91, _ago(900), 3600, NOW) == 2
    assert minutes_left(99, _ago(900), 3600, NOW) == 1  # seconds left still read as about a minute


@pytest.mark.parametrize("progress, elapsed, media, why", [
    (50, 600, 240, "short media: done before an estimate helps"),
    (50, 600, None, "length not known yet"),
    (9, 600, 3600, "too little progress to tell the pace"),
    (40, 15, 3600, "too soon to tell the pace"),
    (100, 600, 3600, "done"),
])
def test_no_estimate_until_it_can_be_told_or_is_worth_telling(progress, elapsed, media, why):
    assert minutes_left(progress, _ago(elapsed), media, NOW) is None, why


def test_no_estimate_without_a_start():
    assert minutes_left(50, None, 3600, NOW) is None
