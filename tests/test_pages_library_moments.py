"""The Library's search finds what is said: a spoken word lists its moment, and a click plays it."""

from __future__ import annotations

from core.config import load_settings
from tests.app_driver import click, element_protos, field
from tests.corpus import ingest_corpus, small_chunks
from tests.factories import make_account


def moments(at) -> list[str]:
    return [b.label for b in at.button if b.key and b.key.startswith("moment-")]


def test_a_spoken_word_lists_its_moment_and_a_click_plays_it_there(corpus_app):
    at, _, _, _ = corpus_app
    at.switch_page("pages/library.py").run()
    field(at, "Search").input("extinguisher").run()
    assert not at.exception, at.exception
    assert moments(at) == ["Kitchen safety training · 00:10"]
    assert any(":orange-background[**extinguisher**]" in m.value and "hallway" in m.value for m in at.markdown)
    assert "No title has these words." in [c.value for c in at.caption]
    assert element_protos(at, "video") == []  # nothing plays until a moment is chosen

    click(at, "Kitchen safety training · 00:10")
    [player] = element_protos(at, "video")
    assert player.start_time == 10 and player.autoplay
    assert any(m.value == "**Kitchen safety training** · 00:10" for m in at.markdown)
    click(at, "Kitchen safety training · 00:10")  # to hear it again: the player starts a second earlier
    [player] = element_protos(at, "video")
    assert player.start_time == 9


def test_title_matches_and_spoken_moments_show_side_by_side(corpus_app):
    at, _, _, _ = corpus_app
    at.switch_page("pages/library.py").run()
    field(at, "Search").input("kitchen").run()
    assert [s.value for s in at.subheader] == ["Titles", "Said in the videos"]  # side by side, titles first
    assert any(b.label == "Kitchen safety training" for b in at.button)  # the title match opens the video
    assert moments(at) == ["Kitchen safety training · 00:00"]  # "Welcome to kitchen safety training…"
    field(at, "Search").input("laptop").run()  # said twice in one video: both moments, in time order
    assert moments(at) == ["IT onboarding · 00:00", "IT onboarding · 00:24"]


def test_someone_elses_words_are_never_found(corpus_app, clean_db, tmp_path):
    at, _, _, _ = corpus_app
    with clean_db.session() as session:
        stranger = make_account(session, "stranger")
    ingest_corpus(clean_db, small_chunks(load_settings()), stranger.id, tmp_path,
                  videos={"Cactus care": [(0.0, 5.0, "Water the cactus once a month.")]})
    at.switch_page("pages/library.py").run()
    field(at, "Search").input("cactus").run()
    assert moments(at) == [] and "No video matches." in [i.value for i in at.info]


def test_a_hostile_search_is_shown_as_typed_and_finds_nothing(corpus_app):
    at, _, _, _ = corpus_app
    at.switch_page("pages/library.py").run()
    for typed in ["<img src=x onerror=alert(1)>", "' OR 1=1; --", "fire & | ! :* \"", "[x](javascript:alert(1))"]:
        field(at, "Search").input(typed).run()
        assert not at.exception, (typed, at.exception)
    field(at, "Search").input('"fire extinguisher" -elevator').run()  # the sentence says "elevator"
    assert moments(at) == []
    field(at, "Search").input('"fire extinguisher"').run()
    assert moments(at) == ["Kitchen safety training · 00:10"]


def test_a_moment_link_from_the_api_opens_the_video_playing_from_its_second(corpus_app):
    """The API's search gives each moment a link (`/library?video=…&t=…`): it opens that video
    playing from that second, and the second is not kept in the address once used."""
    at, _, _, ids = corpus_app
    at.query_params["video"] = str(ids["Kitchen safety training"])
    at.query_params["t"] = "10"
    at.switch_page("pages/library.py").run()
    assert not at.exception, at.exception
    [player] = element_protos(at, "video")
    assert player.start_time == 10 and player.autoplay
    assert "t" not in at.query_params and at.query_params["video"] == str(ids["Kitchen safety training"])
