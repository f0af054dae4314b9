"""A small corpus of captioned videos, ingested for real, with questions whose answers are known."""

from __future__ import annotations
from tests.factories import home

import dataclasses
from pathlib import Path

from core import groups, processing, submission
from core.config import Settings, load_settings
from core.database import Database
from core.indexing import store_transcript
from core.submission import UploadItem
from core.transcripts import Segment
from db.models import Video
from tests.media_factory import TALK, srt, video

KITCHEN = [
    (0.0, 5.0, "Welcome to kitchen safety training for all staff."),
    (5.0, 10.0, "Always cut away from your body and keep knives sharp."),
    (10.0, 16.0, "The fire extinguisher hangs in the hallway next to the elevator."),
    (16.0, 22.0, "Wash your hands with soap for twenty seconds before cooking."),
    (22.0, 28.0, "Label every dish that contains peanuts or other allergens."),
]
ONBOARDING = [
    (0.0, 6.0, "This video walks new hires through their laptop setup."),
    (6.0, 12.0, "Install the VPN client before your first day at the office."),
    (12.0, 18.0, "We use Bitwarden as our password manager for every account."),
    (18.0, 24.0, "For help call the helpdesk on extension 4411, open weekdays."),
    (24.0, 30.0, "Return your laptop to IT when you leave the company."),
]
VIDEOS = {"Quarterly business review": TALK, "Kitchen safety training": KITCHEN, "IT onboarding": ONBOARDING}

# question → (video title, answer window start, end)
QUESTIONS = {
    "Where is the fire extinguisher?": ("Kitchen safety training", 10.0, 16.0),
    "Which customer renewed their contract?": ("Quarterly business review", 9.0, 14.0),
    "What is the helpdesk extension number?": ("IT onboarding", 18.0, 24.0),
    "How long should I wash my hands?": ("Kitchen safety training", 16.0, 22.0),
    "Which password manager do we use?": ("IT onboarding", 12.0, 18.0),
    "How much did revenue grow?": ("Quarterly business review", 4.0, 9.0),
}


def small_chunks(settings: Settings) -> Settings:
    """Chunks of about one caption each, so times can be checked to the sentence."""
    return dataclasses.replace(settings, chunk_words=14, chunk_overlap_words=0)


def ingest_corpus(db: Database, settings: Settings, owner_id: int, workdir: Path,
                  videos: dict[str, list] | None = None, group_name: str = "Team videos") -> tuple[int, dict[str, int]]:
    """Upload and process each video for real; return (group id, video ids by title)."""
    ids: dict[str, int] = {}
    for n, (title, cues) in enumerate((videos or VIDEOS).items()):
        path = video(workdir / f"corpus-{owner_id}-{n}.mp4", seconds=max(b for _, b, _ in cues) + 0.5 + n / 10)
        [result] = submission.submit_uploads(
            db, settings, owner_id,
            [UploadItem(path.name, open(path, "rb"), title=title, captions_name="c.srt", captions_data=srt(cues))],
            language="en",
        )
        assert processing.process_video(db, settings, result.video_id) == "completed"
        ids[title] = result.video_id
    with db.session() as session:
        group_id = groups.create_group(session, owner_id, group_name)
        groups.add_videos(session, owner_id, group_id, list(ids.values()))
    return group_id, ids


_TOPICS = {
    "baking": [
        "Sourdough bread starts with a lively starter made of flour and water.",
        "Feed the starter every day until it doubles in size within six hours.",
        "Mix the dough with bread flour, water, salt and a spoon of starter.",
        "Stretch and fold the dough every half hour to build gluten strength.",
        "The dough rises overnight in a cool kitchen, covered with a damp towel.",
        "Shape the loaf gently and let it proof in a floured basket.",
        "Preheat the oven with a cast iron pot inside to trap the steam.",
        "Score the top of the loaf with a razor so the crust can open.",
        "Bake with the lid on for twenty minutes, then uncover to brown the crust.",
        "Let the bread cool on a rack before slicing, or the crumb turns gummy.",
    ],
    "cycling": [
        "Check the tyre pressure on your bicycle before every long ride.",
        "A clean and oiled chain makes the gears shift smoothly up the hills.",
        "Adjust the saddle height so your knee bends slightly at the bottom.",
        "Brake pads wear out, so replace them when the grooves disappear.",
        "Carry a spare inner tube, tyre levers and a small pump on the bike.",
        "Fixing a puncture means finding the hole in the tube and patching it.",
        "Wear a helmet and bright lights when you cycle through traffic at night.",
        "Spin an easy gear up steep climbs instead of pushing hard on the pedals.",
        "Tighten the handlebar stem bolts with the right torque wrench setting.",
        "After a wet ride, dry the frame and lubricate the chain again.",
    ],
    "astronomy": [
        "On a clear night the planet Jupiter and its four large moons are visible.",
        "A small telescope shows the rings of Saturn as a bright oval.",
        "Let your eyes adapt to the dark for twenty minutes before stargazing.",
        "The Andromeda galaxy is the most distant object you can see unaided.",
        "Star charts and a red torch help you find constellations like Orion.",
        "Meteor showers such as the Perseids peak every year in August.",
        "The moon's craters stand out best along the line between night and day.",
        "Light pollution from cities hides the faint stars of the Milky Way.",
        "Mars looks red because iron oxide dust covers its surface and sky.",
        "A solar filter is essential before pointing any telescope at the sun.",
    ],
}
TOPIC_SECONDS = 150.0  # each topic lasts two and a half minutes


def three_topics() -> list[tuple[float, float, str]]:
    """Captions for a 7.5-minute talk: baking, then cycling at 2:30, then astronomy at 5:00."""
    cues = []
    for t, sentences in enumerate(_TOPICS.values()):
        for n in range(30):
            start = t * TOPIC_SECONDS + n * 5.0
            cues.append((start, start + 5.0, sentences[(n * 7) % 10]))
    return cues


def captioned_group(db: Database, owner_id: int, videos: dict[str, list],
                    name: str = "Team videos") -> tuple[int, dict[str, int]]:
    """Videos indexed from their captions the way processing stores them (no media file), in one
    group: for stories about what happens after ingestion. Returns (group id, video ids by title)."""
    ids = {}
    for title, cues in videos.items():
        with db.session() as s:
            video = Video(user_id=owner_id, workspace_id=home(s, owner_id), title=title, duration_s=cues[-1][1] + 1, status="processing")
            s.add(video)
            s.flush()
            ids[title] = video.id
        store_transcript(db, small_chunks(load_settings()), ids[title], [Segment(*c) for c in cues], "captions")
    with db.session() as s:
        group_id = groups.create_group(s, owner_id, name)
        groups.add_videos(s, owner_id, group_id, list(ids.values()))
    return group_id, ids


def captioned_in(db, owner_id: int, workspace_id: int, title: str, cues: list) -> tuple[int, int]:
    """One captioned video in a group of `workspace_id` (a team's, say), indexed as processing stores it:
    (group, video)."""
    with db.session() as s:
        row = Video(user_id=owner_id, workspace_id=workspace_id, title=title, duration_s=cues[-1][1] + 1,
                    status="processing")
        s.add(row)
        s.flush()
        video_id = row.id
    store_transcript(db, small_chunks(load_settings()), video_id, [Segment(*c) for c in cues], "captions")
    with db.session() as s:
        group_id = groups.create_group(s, owner_id, "Field notes", workspace_id=workspace_id)
        groups.add_videos(s, owner_id, group_id, [video_id])
    return group_id, video_id
