"""Content templates: a user turns a group or an answer into a LinkedIn post, or their own format."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jinja2
import pytest
from sqlalchemy import update

from core import answers, keyphrases, template_sandbox
from core import content_templates as ct
from db.models import Video
from tests.corpus import ingest_corpus
from tests.factories import make_account


@pytest.fixture
def team(clean_db, settings, tmp_path):
    """Three real captioned videos in one group, with no AI model configured (offline)."""
    with clean_db.session() as s:
        owner = make_account(s)
    group_id, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path)
    return clean_db, settings, owner, group_id, ids


def _ask(db, settings, owner, group_id, question):
    prepared = answers.prepare(db, settings, group_id=group_id, user_id=owner.id, question=question)
    return answers.finish(db, prepared, "".join(answers.stream(prepared)))


def test_the_default_linkedin_post_about_a_group(team):
    db, settings, owner, group_id, ids = team
    context = ct.context_for_group(db, settings, owner.id, group_id)
    with db.session() as s:
        post = ct.generate(s, owner.id, "linkedin_post", context)
    assert post.startswith("Team videos: what we learned")
    assert "Key points:\n• " in post and "[1]" not in post
    assert "Watch the moments:\n▶ " in post
    assert any(f"▶ {title} at " in post for title in ids)
    assert len(context["key_points"]) >= 3 and context["video_titles"] == list(ids)
    # Revenue, hand washing and a helpdesk: no topic comes back, so no tag is made up.
    assert context["hashtags"] == [] and "#" not in post


FIRE_SAFETY = {
    "Fire safety basics": [
        (0.0, 5.0, "Every floor has a fire extinguisher next to the stairs."),
        (5.0, 10.0, "Check the fire extinguisher pressure gauge once a month."),
        (10.0, 16.0, "During a fire drill the fire extinguisher stays by the stairs and everyone walks out."),
    ],
    "Fire drill walkthrough": [
        (0.0, 6.0, "The fire drill starts when the alarm rings twice; leave the fire extinguisher where it is."),
        (6.0, 12.0, "Leave your laptop behind and walk to the assembly point."),
        (12.0, 18.0, "The fire warden counts everyone at the assembly point."),
    ],
}


def test_a_group_post_has_its_headline_topic_tags_and_moments_linked_where_public(clean_db, settings, tmp_path):
    with clean_db.session() as s:
        owner = make_account(s)
    group_id, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path, FIRE_SAFETY, group_name="Fire safety")
    with clean_db.session() as s:  # the walkthrough came from YouTube; the basics are an uploaded file
        s.execute(update(Video).where(Video.id == ids["Fire drill walkthrough"])
                  .values(source="url", extractor="youtube", external_id="dQw4w9WgXcQ"))
    context = ct.context_for_group(clean_db, settings, owner.id, group_id)
    with clean_db.session() as s:
        post = ct.generate(s, owner.id, "linkedin_post", context)
    assert post.startswith("Fire safety: what we learned\n")
    assert context["hashtags"] == ["#FireDrill", "#FireExtinguisher"]  # not "#Fire", "#Assembly", "#Point"
    assert post.rstrip().splitlines()[-1] == "#FireDrill #FireExtinguisher"
    moments = post.split("Watch the moments:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert "▶ Fire drill walkthrough at 00:00 — https://youtu.be/dQw4w9WgXcQ?t=0" in moments
    assert "▶ Fire safety basics at 00:10" in moments  # no public page: the moment, without a dead link
    assert len(moments) == len(context["sources"]) == 2


def test_a_post_from_a_chat_answer_cites_its_moments(team):
    db, settings, owner, group_id, _ = team
    answer = _ask(db, settings, owner, group_id, "Where is the fire extinguisher?")
    with db.session() as s:
        context = ct.context_for_answer(s, owner.id, answer.log_id)
        post = ct.generate(s, owner.id, "linkedin_post", context)
    assert post.startswith("Where to find the fire extinguisher\n")  # a headline, not the question
    assert context["hashtags"] == ["#FireExtinguisher"]
    assert post.rstrip().endswith("\n\n#FireExtinguisher")
    cited = re.search(r"▶ Kitchen safety training at 00:(\d\d)\n", post)  # an upload: no link
    assert cited and 2 <= int(cited.group(1)) <= 16  # the answer is at 10–16 s; citations lead in
    assert "hallway" in post.lower()
    assert "Extractive" not in post and "AI model" not in post  # how it was made stays on the page
    with db.session() as s:
        stranger = make_account(s, "stranger")
    with db.session() as s, pytest.raises(ct.ContentTemplateError, match="not yours"):
        ct.context_for_answer(s, stranger.id, answer.log_id)


@pytest.mark.parametrize("question, answer, expected", [
    ("how can i prevent auto nesting?", "To stop auto-nesting, turn off Prevent Auto-Nesting.", "How to prevent auto-nesting"),
    ("Where is the fire extinguisher?", "", "Where to find the fire extinguisher"),
    ("What is the helpdesk extension number?", "", "The helpdesk extension number"),
    ("HOW DO I RESET MY PASSWORD?", "", "How to reset your password"),
    ("so, which password manager do we use", "We use Bitwarden.", "Which password manager do we use"),
    ("can i install bitwarden on my phone?", "Install Bitwarden from the store.", "How to install Bitwarden on your phone"),
])
def test_a_question_becomes_a_headline_in_sentence_case(question, answer, expected):
    assert ct.headline(question, answer) == expected


@pytest.mark.parametrize("text, tags", [
    ("How can I prevent auto nesting? To prevent auto-nesting, open the Layers panel and turn off the "
     "Prevent Auto-Nesting option. With auto-nesting off, objects stay where you drop them.", ["#AutoNesting"]),
    ("Which password manager do we use? We use Bitwarden as our password manager. Bitwarden keeps it safe.",
     ["#PasswordManager", "#Bitwarden"]),
    # Verbs and generic words, however often said, are no topic; nor is anything said once.
    ("Click the option. Then click save. Click the option again, the option is the third one.", []),
    ("Okay, thanks for watching, see you next time. Bye!", []),
    ("Install the VPN client first. Install it before your first day: the VPN client needs your password.",
     ["#VPNClient"]),
])
def test_hashtags_name_the_topics_a_text_comes_back_to(text, tags):
    assert keyphrases.hashtags(text) == tags


def test_at_most_five_hashtags_multi_word_phrases_first():
    text = " ".join(f"The {a} {b} matters. We checked the {a} {b} twice." for a, b in [
        ("fire", "drill"), ("smoke", "alarm"), ("exit", "sign"), ("first", "aid"), ("sprinkler", "valve"),
        ("boiler", "room")]) + " The kitchen, the kitchen, the kitchen and the kitchen again."
    tags = keyphrases.hashtags(text)
    assert len(tags) == 5 and "#Kitchen" not in tags and all(t[1].isupper() and len(t) > 6 for t in tags)


def test_an_answer_that_found_nothing_makes_no_post(team):
    db, settings, owner, group_id, _ = team
    answer = _ask(db, settings, owner, group_id, "Quantum chromodynamics lattice gauge?")
    with db.session() as s, pytest.raises(ct.ContentTemplateError, match="nothing to post"):
        ct.context_for_answer(s, owner.id, answer.log_id)


def test_a_users_template_wins_over_the_default_and_new_types_can_be_added(session):
    owner = make_account(session)
    context = {"topic": "Kitchen", "key_points": ["Knives sharp", "Wash hands"], "hashtags": ["#Safety"]}
    ct.save_template(session, owner.id, "linkedin_post", "{{ topic | upper }} – {{ key_points | join('; ') }}")
    assert ct.generate(session, owner.id, "linkedin_post", context) == "KITCHEN – Knives sharp; Wash hands\n"
    ct.save_template(session, owner.id, "Team newsletter!", "Newsletter: {{ hashtags | first }}")
    types = {t.content_type: t for t in ct.content_types(session, owner.id)}
    assert types["linkedin_post"].is_default is False and types["linkedin_post"].has_default
    assert types["team_newsletter"].label == "Team newsletter" and not types["team_newsletter"].has_default
    assert ct.generate(session, owner.id, "team_newsletter", context) == "Newsletter: #Safety\n"
    ct.delete_template(session, owner.id, "linkedin_post")
    assert ct.template_for(session, owner.id, "linkedin_post").is_default
    # Another user still gets only the shipped default.
    other = make_account(session, "other")
    assert [t.content_type for t in ct.content_types(session, other.id)] == ["linkedin_post"]


@pytest.mark.parametrize("body, message", [
    ("", "empty"),
    ("{% for p in key_points %}{{ p }}", "line 1: Unexpected end of template"),
    ("Hello\n{{ topic }\n", "line 2"),
    ("{{ author }} wrote {{ secret_key }}", "Unknown variables: author, secret_key. Available: topic,"),
    ("x" * 20_001, "at most 20,000"),
])
def test_broken_templates_are_refused_with_a_clear_message(session, body, message):
    owner = make_account(session)
    with pytest.raises(ct.ContentTemplateError, match=message):
        ct.save_template(session, owner.id, "linkedin_post", body)


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ topic.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.system('id') }}",
    "{{ key_points.append('owned') }}",
    "{{ 'x' * 10**9 }}",
    "{{ 2 ** 100000 }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(5000) %}{{ topic * 20 }}{% endfor %}",
    # Blow-ups the operator checks cannot see; the child process's CPU and memory caps stop them.
    '{% set a = "x" * 50000 %}' + "{% set a = a ~ a %}" * 20 + "{{ a | length }}",
    '{{ "%999999999s" % "x" }}',
    '{{ "x" | center(999999999) }}',
    "{{ (((9 ** 64) ** 64) ** 64) ** 64 }}",
    '{% set s = "x" * 50000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}',
    "{% macro f(n) %}{{ f(n - 1) }}{{ f(n - 1) }}{% endmacro %}{{ f(60) }}",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
])
def test_a_template_that_reaches_for_python_internals_or_the_machine_fails_safely(attack):
    context = {"topic": "Kitchen", "key_points": ["Knives sharp"]}
    with pytest.raises(ct.ContentTemplateError) as refused:
        ct.render(attack, context)
    assert str(refused.value).startswith("The ")
    assert context == {"topic": "Kitchen", "key_points": ["Knives sharp"]}


def test_hostile_text_in_the_videos_comes_out_as_literal_text():
    post = ct.render("{{ topic }}", {"topic": "<script>alert(1)</script> {{ 7*7 }}"})
    assert post == "<script>alert(1)</script> {{ 7*7 }}\n"


DEEP_TEMPLATES = {
    "5,000 parentheses": "{{ " + "(" * 5000 + "topic" + ")" * 5000 + " }}",
    "900 nested ifs": "{%if topic%}" * 900 + "x" + "{%endif%}" * 900,
}


@pytest.mark.parametrize("body", DEEP_TEMPLATES.values(), ids=DEEP_TEMPLATES.keys())
def test_a_deeply_nested_template_is_refused_readably_and_never_parsed_in_the_app(session, monkeypatch, body):
    # Any parse in this (the app's) process fails the test: only the sandbox child may read the text.
    def no_parse_here(*args, **kwargs):
        raise AssertionError("template text was parsed in the app's process")

    monkeypatch.setattr(jinja2.Environment, "_parse", no_parse_here)
    monkeypatch.setattr(jinja2.Environment, "parse", no_parse_here)
    owner = make_account(session)
    with pytest.raises(ct.ContentTemplateError, match="^The template is nested too deeply"):
        ct.save_template(session, owner.id, "linkedin_post", body)
    with pytest.raises(ct.ContentTemplateError, match="^The template is nested too deeply"):
        ct.render(body, {"topic": "Kitchen"})
    # A good template is still checked and rendered, in the child.
    ct.save_template(session, owner.id, "linkedin_post", "{% if topic %}{{ (topic) | upper }}{% endif %}")
    assert ct.generate(session, owner.id, "linkedin_post", {"topic": "Kitchen"}) == "KITCHEN\n"


def _live_sandbox_children() -> int:
    """Sandbox processes this test process has started and that are running now (read from /proc)."""
    count = 0
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                if b"core.template_sandbox" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    count += 1
            except OSError:  # it ended while being looked at
                pass
    return count


def test_many_previews_at_once_never_run_more_sandbox_children_than_the_cap(monkeypatch):
    monkeypatch.setattr(template_sandbox, "BUSY_WAIT_SECONDS", 120)  # here every caller should get its turn
    body = "{% for i in range(10000) %}{% for j in range(20) %}{% endfor %}{% endfor %}{{ topic }}"
    seen, done = [], threading.Event()

    def watch():
        while not done.is_set():
            seen.append(_live_sandbox_children())
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            posts = list(pool.map(lambda n: ct.render(body, {"topic": f"Preview {n}"}), range(8)))
    finally:
        done.set()
        watcher.join()
    assert posts == [f"Preview {n}\n" for n in range(8)]
    assert max(seen) == template_sandbox.MAX_CHILDREN  # they did overlap, up to the cap and no further


def test_a_preview_beyond_the_cap_waits_a_little_then_hears_the_service_is_busy(monkeypatch):
    monkeypatch.setattr(template_sandbox, "_children", threading.BoundedSemaphore(1))
    monkeypatch.setattr(template_sandbox, "BUSY_WAIT_SECONDS", 0.2)
    template_sandbox._children.acquire()  # another preview holds the only slot
    started = time.monotonic()
    with pytest.raises(ct.ContentTemplateError, match="^The template service is busy; try again in a moment.$"):
        ct.render("{{ topic }}", {"topic": "Kitchen"})
    assert 0.2 <= time.monotonic() - started < 2
    template_sandbox._children.release()
    assert ct.render("{{ topic }}", {"topic": "Kitchen"}) == "Kitchen\n"


@pytest.mark.parametrize("attack, message", [
    ('{% set a = "x" * 50000 %}' + "{% set a = a ~ a %}" * 20 + "{{ a | length }}", "needs too much memory"),
    ('{% set s = "x" * 50000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}', "took too long"),
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "calls itself too deeply"),
    ("{% for i in range(10000) %}{{ topic }}{% endfor %}", "longer than 50,000 characters"),
])
def test_each_way_a_template_can_exhaust_the_sandbox_reads_as_a_message(attack, message):
    with pytest.raises(ct.ContentTemplateError, match=message):
        ct.render(attack, {"topic": "Kitchen"})


def test_the_lower_memory_cap_still_renders_the_largest_legitimate_result():
    post = ct.render("{% for i in range(10000) %}{{ i }} {% endfor %}", {})
    assert len(post) > 48_000 and post.startswith("0 1 2 ")


def test_the_preview_has_a_sample_for_every_variable_a_template_may_use():
    from core import content_templates as ct

    assert set(ct.SAMPLE_CONTEXT) == set(ct.VARIABLES)
    body = "\n".join("{{ %s }}" % name for name in ct.VARIABLES)
    assert "Kitchen safety" in ct.preview(body)
