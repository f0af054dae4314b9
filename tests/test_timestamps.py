"""Times people type into the app (chapters, clips, comments): read as they mean them, or refused."""

import pytest

from core.transcripts import format_timestamp, parse_timestamp


@pytest.mark.parametrize("typed, seconds", [("2:05", 125), ("02:05", 125), ("1:02:03", 3723), ("125", 125),
                                            ("7.5", 7.5), (" 0:09 ", 9)])
def test_times_read_as_people_write_them(typed, seconds):
    assert parse_timestamp(typed) == seconds


@pytest.mark.parametrize("typed, message", [("", "not a time"), ("soon", "not a time"), ("1:75", "up to 59"),
                                            ("::", "not a time"), ("-3", "negative"), ("nan", "not a time"),
                                            ("inf", "not a time"), ("1:2:3:4", "not a time")])
def test_anything_else_is_refused_with_a_reason(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_timestamp(typed)


def test_a_time_reads_back_the_way_it_was_typed():
    assert format_timestamp(parse_timestamp("1:02:03")) == "1:02:03"
    assert format_timestamp(parse_timestamp("02:05")) == "02:05"
