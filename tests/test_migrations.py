"""The schema is made only by Alembic, and the migrations agree with the models."""

from __future__ import annotations

import re
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, create_engine, inspect, text

from core.answers import EXTRACTIVE_INTRO, NOTHING_FOUND
from db.engine import drop_database, ensure_database, with_database
from db.migrate import downgrade, upgrade
from db.models import Base


@pytest.fixture
def scratch_url(server_url: str):
    url = with_database(server_url, f"askvideo_migr_{uuid.uuid4().hex[:8]}")
    ensure_database(url)
    yield url
    drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_the_vector_extension(scratch_url):
    upgrade(scratch_url)
    tables = _tables(scratch_url)
    assert {"users", "videos", "video_groups", "video_group_members", "chat_logs",
            "transcript_chunks", "user_sessions", "procrastinate_jobs"} <= tables
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar()
        index = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_transcript_chunks_embedding_hnsw'")
        ).scalar()
    engine.dispose()
    assert "hnsw" in index and "vector_cosine_ops" in index


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(scratch_url):
    upgrade(scratch_url)
    downgrade(scratch_url, "base")
    assert _tables(scratch_url) <= {"alembic_version"}
    upgrade(scratch_url)
    assert "transcript_chunks" in _tables(scratch_url)


def test_each_revision_steps_down_and_up(scratch_url):
    upgrade(scratch_url)
    for target in ("0003", "0002", "0001"):
        downgrade(scratch_url, target)
    upgrade(scratch_url)
    assert "procrastinate_jobs" in _tables(scratch_url)


def test_models_and_migrated_database_agree(database_url):
    engine = create_engine(database_url)

    def ours(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name.startswith("procrastinate_"))

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_check_constraints_allow_the_values_the_models_allow(database_url):
    """compare_metadata does not read CHECK constraints: the quoted values each one names (the
    enum members, for constraints built from an enum) are compared here, so a member added to an
    enum without a migration is caught."""
    def values(sql: str) -> set[str]:
        return set(re.findall(r"'([^']*)'", sql))

    declared = {c.name: values(str(c.sqltext)) for table in Base.metadata.tables.values()
                for c in table.constraints if isinstance(c, CheckConstraint)}
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                 "WHERE contype = 'c' AND connamespace = 'public'::regnamespace")).all()
    engine.dispose()
    assert {name: values(definition) for name, definition in rows if name in declared} == declared


def test_chat_logs_from_before_the_mode_column_get_it_from_their_opening_words(scratch_url):
    upgrade(scratch_url, "0010")
    answers = {
        NOTHING_FOUND: "nothing",
        f"{EXTRACTIVE_INTRO}\n\n- “It is next to the elevator.” [1]": "extractive",
        "Globex renewed for three years [1].": "llm",
        f"The videos say more than this: {NOTHING_FOUND}": "llm",  # only the opening words count
    }
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        user = conn.execute(text("INSERT INTO users (username, email, password, video_limit) "
                                 "VALUES ('old', 'old@example.com', 'x', 1) RETURNING id")).scalar()
        group = conn.execute(text("INSERT INTO video_groups (user_id, name) VALUES (:u, 'G') RETURNING id"),
                             {"u": user}).scalar()
        for answer in answers:
            conn.execute(text("INSERT INTO chat_logs (user_id, group_id, question, answer) VALUES (:u, :g, 'q', :a)"),
                         {"u": user, "g": group, "a": answer})
    upgrade(scratch_url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT answer, mode FROM chat_logs")).all())
    engine.dispose()
    assert stored == answers


def test_existing_chat_logs_move_into_one_conversation_per_group_day_and_origin(scratch_url):
    upgrade(scratch_url, "0012")
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        user = conn.execute(text("INSERT INTO users (username, email, password, video_limit) "
                                 "VALUES ('old', 'old@example.com', 'x', 1) RETURNING id")).scalar()
        kitchen, onboarding = (conn.execute(text("INSERT INTO video_groups (user_id, name) VALUES (:u, :n) RETURNING id"),
                                            {"u": user, "n": name}).scalar() for name in ("Kitchen", "Onboarding"))
        logs = [  # (group, asked at, through a share link, question)
            (kitchen, "2026-11-01 09:00+00", False, "Where is the fire extinguisher?"),
            (kitchen, "2026-11-01 09:05+00", False, "And the first-aid kit?"),
            (kitchen, "2026-11-01 10:00+00", True, "Is the kitchen open at night?"),
            (kitchen, "2026-11-02 08:00+00", False, "Who cleans the fridge?"),
            (onboarding, "2026-11-01 09:02+00", False, "Which password manager" + " do we use" * 20 + "?"),
        ]
        for group, at, shared, question in logs:
            conn.execute(text("INSERT INTO chat_logs (user_id, group_id, question, answer, mode, is_shared_origin, "
                              "created_at, feedback) VALUES (:u, :g, :q, 'An answer [1].', 'llm', :s, :t, 'good')"),
                         {"u": user, "g": group, "q": question, "s": shared, "t": at})
    upgrade(scratch_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.title, c.group_id, c.is_shared_origin, c.scope, count(*) AS turns, "
            "       bool_and(l.feedback = 'good') AS kept, min(l.created_at) = c.created_at AS started "
            "  FROM chat_logs l JOIN conversations c ON c.id = l.conversation_id "
            " GROUP BY c.id ORDER BY c.created_at")).all()
        orphans = conn.execute(text("SELECT count(*) FROM chat_logs WHERE conversation_id IS NULL")).scalar()
    engine.dispose()
    assert orphans == 0
    assert [(r.title, r.group_id, r.is_shared_origin, r.turns) for r in rows] == [
        ("Where is the fire extinguisher?", kitchen, False, 2),
        (("Which password manager" + " do we use" * 20)[:79] + "…", onboarding, False, 1),  # at most 80 characters
        ("Is the kitchen open at night?", kitchen, True, 1),
        ("Who cleans the fridge?", kitchen, False, 1),
    ]
    assert all(r.scope == "group" and r.kept and r.started for r in rows)


def test_transcripts_from_before_the_keyword_counts_get_them_at_upgrade(scratch_url):
    upgrade(scratch_url, "0014")
    engine = create_engine(scratch_url)
    vector = "[" + ",".join(["0.05"] * 384) + "]"
    with engine.begin() as conn:
        user = conn.execute(text("INSERT INTO users (username, email, password, video_limit) "
                                 "VALUES ('old', 'old@example.com', 'x', 1) RETURNING id")).scalar()
        video = conn.execute(text("INSERT INTO videos (user_id, title, status) VALUES (:u, 'Kitchen', 'completed') "
                                  "RETURNING id"), {"u": user}).scalar()
        for n, said in enumerate(["The fire extinguisher hangs in the hallway.", "Wash your hands, then wash the knives."]):
            conn.execute(text("INSERT INTO transcript_chunks (video_id, user_id, video_title, chunk_index, text, "
                              "start_time, end_time, embedding, embedding_model) "
                              "VALUES (:v, :u, 'Kitchen', :n, :t, :n * 5, :n * 5 + 5, :e, 'm')"),
                         {"v": video, "u": user, "n": n, "t": said, "e": vector})
            conn.execute(text("INSERT INTO transcript_sentences (video_id, user_id, sentence_index, text, "
                              "start_time, end_time, embedding, embedding_model) "
                              "VALUES (:v, :u, :n, :t, :n * 5, :n * 5 + 5, :e, 'm')"),
                         {"v": video, "u": user, "n": n, "t": said, "e": vector})
    upgrade(scratch_url, "0015")
    with engine.begin() as conn:
        stats = conn.execute(text("SELECT kind, documents, total_length FROM keyword_stats ORDER BY kind")).all()
        counted = conn.execute(text(
            "SELECT 'transcript_chunks', count(*), sum(length(search_vector)) FROM transcript_chunks UNION ALL "
            "SELECT 'transcript_sentences', count(*), sum(length(search_vector)) FROM transcript_sentences")).all()
        terms = dict(conn.execute(text("SELECT lexeme, documents FROM keyword_terms "
                                       "WHERE kind = 'transcript_chunks'")).all())
        # From here on the triggers keep them: a third chunk says "wash" again.
        conn.execute(text("INSERT INTO transcript_chunks (video_id, user_id, video_title, chunk_index, text, "
                          "start_time, end_time, embedding, embedding_model) "
                          "VALUES (:v, :u, 'Kitchen', 2, 'Wash up.', 10, 15, :e, 'm')"),
                     {"v": video, "u": user, "e": vector})
        washed = conn.execute(text("SELECT documents FROM keyword_terms WHERE kind = 'transcript_chunks' "
                                   "AND lexeme = 'wash'")).scalar()
    engine.dispose()
    assert [tuple(r) for r in stats] == [tuple(r) for r in counted] and stats[0].documents == 2
    assert terms["kitchen"] == 2 and terms["extinguish"] == 1 and terms["wash"] == 1  # the title is in every chunk
    assert washed == 2


def test_transcripts_from_before_the_keyword_postings_get_them_at_upgrade(scratch_url):
    """Revision 0022: each (video, lexeme) row also lists the documents that hold the lexeme, how
    often, and their lengths; existing transcripts get them at upgrade, new ones from the trigger."""
    upgrade(scratch_url, "0021")
    engine = create_engine(scratch_url)
    vector = "[" + ",".join(["0.05"] * 384) + "]"
    insert = ("INSERT INTO transcript_chunks (video_id, workspace_id, video_title, chunk_index, text, "
              "start_time, end_time, embedding, embedding_model) "
              "VALUES (:v, :w, 'Kitchen', :n, :t, :n * 5, :n * 5 + 5, :e, 'm') RETURNING id")
    with engine.begin() as conn:
        user = conn.execute(text("INSERT INTO users (username, email, password, video_limit) "
                                 "VALUES ('old', 'old@example.com', 'x', 1) RETURNING id")).scalar()
        workspace = conn.execute(text("INSERT INTO workspaces (name, personal_user_id) VALUES ('old', :u) "
                                      "RETURNING id"), {"u": user}).scalar()
        video = conn.execute(text("INSERT INTO videos (user_id, workspace_id, title, status) "
                                  "VALUES (:u, :w, 'Kitchen', 'completed') RETURNING id"),
                             {"u": user, "w": workspace}).scalar()
        first, second = (conn.execute(text(insert), {"v": video, "w": workspace, "n": n, "t": said, "e": vector}).scalar()
                         for n, said in enumerate(["Wash your hands, then wash the knives.", "The extinguisher."]))
    upgrade(scratch_url, "0022")
    postings = "SELECT document_ids, term_counts, document_lengths FROM keyword_terms WHERE lexeme = :l"
    with engine.begin() as conn:
        lengths = dict(conn.execute(text("SELECT id, length(search_vector) FROM transcript_chunks")).all())
        kitchen = conn.execute(text(postings), {"l": "kitchen"}).one()  # the title, in both
        washed = conn.execute(text(postings), {"l": "wash"}).one()
        third = conn.execute(text(insert), {"v": video, "w": workspace, "n": 2, "t": "Wash up.", "e": vector}).scalar()
        washed_again = conn.execute(text(postings), {"l": "wash"}).one()
    engine.dispose()
    assert tuple(kitchen) == ([first, second], [1, 1], [lengths[first], lengths[second]])
    assert tuple(washed) == ([first], [2], [lengths[first]])  # said twice in the first chunk
    assert washed_again.document_ids == [first, third] and washed_again.term_counts == [2, 1]


def test_every_existing_row_lands_in_its_owners_personal_workspace(scratch_url):
    """Two users' libraries as revision 0015 held them (videos, a group, a conversation, a chunk, a
    sentence, a summary, a clip, a template) migrate with every row in its owner's personal
    workspace, each owner its only member, and new workspaces numbered after them."""
    upgrade(scratch_url, "0015")
    engine = create_engine(scratch_url)
    vector = "[" + ",".join(["0.05"] * 384) + "]"
    with engine.begin() as conn:
        users = []
        for name in ("ann", "bob"):
            user = conn.execute(text("INSERT INTO users (username, email, password, video_limit) "
                                     "VALUES (:n, :e, 'x', 5) RETURNING id"), {"n": name, "e": f"{name}@example.com"}).scalar()
            video = conn.execute(text("INSERT INTO videos (user_id, title, status, sha256) "
                                      "VALUES (:u, 'Talk', 'completed', 'same-bytes') RETURNING id"), {"u": user}).scalar()
            group = conn.execute(text("INSERT INTO video_groups (user_id, name) VALUES (:u, 'Onboarding') RETURNING id"),
                                 {"u": user}).scalar()
            conversation = conn.execute(text("INSERT INTO conversations (user_id, scope, group_id, title) "
                                             "VALUES (:u, 'group', :g, 'Q') RETURNING id"), {"u": user, "g": group}).scalar()
            conn.execute(text("INSERT INTO chat_logs (user_id, group_id, conversation_id, question, answer, mode) "
                              "VALUES (:u, :g, :c, 'Q', 'A', 'extractive')"), {"u": user, "g": group, "c": conversation})
            conn.execute(text("INSERT INTO transcript_chunks (video_id, user_id, video_title, chunk_index, text, "
                              "start_time, end_time, embedding, embedding_model) "
                              "VALUES (:v, :u, 'Talk', 0, 'Hello.', 0, 5, :e, 'm')"), {"v": video, "u": user, "e": vector})
            conn.execute(text("INSERT INTO transcript_sentences (video_id, user_id, sentence_index, text, "
                              "start_time, end_time, embedding, embedding_model) "
                              "VALUES (:v, :u, 0, 'Hello.', 0, 5, :e, 'm')"), {"v": video, "u": user, "e": vector})
            conn.execute(text("INSERT INTO summaries (user_id, video_id, text, method, fingerprint) "
                              "VALUES (:u, :v, 'S', 'extractive', 'f')"), {"u": user, "v": video})
            conn.execute(text("INSERT INTO clips (user_id, video_id, clip_hash, title, start_s, end_s) "
                              "VALUES (:u, :v, :h, 'C', 0, 5)"), {"u": user, "v": video, "h": f"hash-{user}"})
            conn.execute(text("INSERT INTO content_templates (user_id, content_type, body) VALUES (:u, 'post', 'B')"),
                         {"u": user})
            users.append(user)
    upgrade(scratch_url)
    with engine.begin() as conn:
        personal = dict(conn.execute(text("SELECT personal_user_id, id FROM workspaces")).all())
        members = conn.execute(text("SELECT workspace_id, user_id, role FROM workspace_members ORDER BY user_id")).all()
        homes = {table: conn.execute(text(f"SELECT DISTINCT workspace_id FROM {table} ORDER BY 1")).scalars().all()
                 for table in ("videos", "video_groups", "conversations", "chat_logs", "transcript_chunks",
                               "transcript_sentences", "summaries", "clips", "content_templates")}
        uploaders = conn.execute(text("SELECT DISTINCT user_id FROM videos ORDER BY 1")).scalars().all()
        team = conn.execute(text("INSERT INTO workspaces (name) VALUES ('Team') RETURNING id")).scalar()
        # The same file may now be in two workspaces; twice in one it is still refused.
        copied = conn.execute(text("INSERT INTO videos (user_id, workspace_id, title, sha256) "
                                   "VALUES (:u, :w, 'Talk', 'same-bytes') RETURNING id"), {"u": users[0], "w": team}).scalar()
    engine.dispose()
    assert set(personal) == set(users)
    assert [tuple(m) for m in members] == [(personal[u], u, "owner") for u in users]
    assert all(found == sorted(personal.values()) for found in homes.values()), homes
    assert uploaders == users and copied and team > max(personal.values())
