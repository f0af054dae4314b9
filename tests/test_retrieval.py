"""Retrieval finds the moment that answers, and never anything outside the group or its owner."""

from __future__ import annotations

import math

import pytest
from langchain_core.retrievers import BaseRetriever
from sqlalchemy import text

from core import groups, library, retrieval
from core.config import load_settings
from core.embeddings import LocalMiniLM
from core.states import PassageKind
from tests.corpus import KITCHEN, ONBOARDING, QUESTIONS, captioned_group, ingest_corpus, small_chunks
from tests.factories import home, make_account


@pytest.fixture
def corpus(clean_db, tmp_path):
    settings = small_chunks(load_settings())
    with clean_db.session() as s:
        owner = make_account(s, "owner")
    group_id, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path)
    return clean_db, owner, group_id, ids


def retriever(db, owner_id, group_id, k=5):
    with db.session() as s:
        workspace_id = home(s, owner_id)
    return retrieval.GroupRetriever(session_factory=db.session, embeddings=LocalMiniLM(),
                                    embedding_model=LocalMiniLM.model_name, group_id=group_id,
                                    workspace_id=workspace_id, k=k)


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_known_answers_are_in_the_top_three(corpus, question):
    db, owner, group_id, ids = corpus
    title, start, end = QUESTIONS[question]
    docs = retriever(db, owner.id, group_id).invoke(question)
    assert isinstance(retriever(db, owner.id, group_id), BaseRetriever)
    hits = [(d.metadata["video_id"], d.metadata["start"], d.metadata["end"]) for d in docs[:3]]
    assert any(vid == ids[title] and s < end and e > start for vid, s, e in hits), (question, docs[:3])
    first = docs[0].metadata
    assert {"video_id", "title", "start", "end", "score", "similarity"} <= set(first)


def test_rare_numbers_are_found_by_keywords(corpus):
    db, owner, group_id, ids = corpus
    hits = retriever(db, owner.id, group_id).hits("4411")
    assert hits[0].video_id == ids["IT onboarding"] and hits[0].keyword_match
    assert "4411" in hits[0].text


def test_only_videos_in_the_group_are_searched(corpus):
    db, owner, group_id, ids = corpus
    with db.session() as s:
        groups.remove_video(s, owner.id, group_id, ids["IT onboarding"])
    hits = retriever(db, owner.id, group_id, k=50).hits("Which password manager do we use?")
    assert hits and ids["IT onboarding"] not in {h.video_id for h in hits}


def test_another_user_can_never_retrieve_the_owners_chunks(corpus, tmp_path):
    db, owner, group_id, ids = corpus
    with db.session() as s:
        mallory = make_account(s, "mallory")
        own_group = groups.create_group(s, mallory.id, "Mine")
    # Her own empty group, the owner's group under her id, and a group id that does not exist.
    for gid in (own_group, group_id, 999_999):
        assert retriever(db, mallory.id, gid, k=50).hits("password manager") == []
    with db.session() as s, pytest.raises(Exception, match="does not exist or is not yours"):
        groups.add_videos(s, mallory.id, group_id, [ids["IT onboarding"]])
    with db.session() as s, pytest.raises(Exception, match="Only videos of the group's own workspace"):
        groups.add_videos(s, mallory.id, own_group, [ids["IT onboarding"]])


def test_top_k_is_filled_even_when_the_group_is_a_sliver_of_the_table(corpus, tmp_path):
    db, owner, group_id, ids = corpus
    settings = small_chunks(load_settings())
    with db.session() as s:
        other = make_account(s, "bulk")
    # Another user's 5 videos hold most of the table's chunks; the group still gets its own top k.
    bulk = {f"Bulk {n}": ONBOARDING for n in range(5)}
    ingest_corpus(db, settings, other.id, tmp_path, videos=bulk, group_name="Bulk")
    hits = retriever(db, owner.id, group_id, k=12).hits("laptop")
    assert len(hits) == 12 and {h.video_id for h in hits} <= set(ids.values())


def test_questions_with_only_symbols_or_stop_words_do_not_break_search(corpus):
    db, owner, group_id, _ = corpus
    for question in ("???", "the and of", "'); DROP TABLE videos; --", "naïve café ∑ 🙂", "a" * 3000):
        hits = retriever(db, owner.id, group_id).hits(question)
        assert isinstance(hits, list)


def test_bm25_ranks_the_chunk_with_a_rare_word_first(corpus):
    db, owner, group_id, ids = corpus
    # "laptop" is in two onboarding captions, "Bitwarden" in one: the rarer word decides.
    with db.session() as s:
        hits = retrieval.keyword_search(s, group_id=group_id, workspace_id=home(s, owner.id), model=LocalMiniLM.model_name,
                                        query_text="Can I use my laptop with Bitwarden?", k=5, bm25=True)
    assert hits[0].video_id == ids["IT onboarding"] and "Bitwarden" in hits[0].text
    assert {h.video_id for h in hits} == {ids["IT onboarding"]}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_stop_words_alone_match_nothing_in_bm25(corpus):
    db, owner, group_id, _ = corpus
    with db.session() as s:
        assert retrieval.keyword_search(s, group_id=group_id, workspace_id=home(s, owner.id), model=LocalMiniLM.model_name,
                                        query_text="how do I do it", k=5, bm25=True) == []


def test_citation_plays_from_the_answering_sentence_inside_a_long_chunk(clean_db, tmp_path):
    settings = load_settings()  # default chunks: each short test video is one chunk
    with clean_db.session() as s:
        owner = make_account(s, "owner")
    group_id, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path)
    [hit, *_] = retriever(clean_db, owner.id, group_id).hits("Which customer renewed their contract?")
    assert hit.video_id == ids["Quarterly business review"] and hit.chunk_start == 0.0
    assert "Globex" in hit.sentence and hit.sentence_end == 14.0
    # One sentence of lead-in (it started 5 s before), inside the chunk, before the answer.
    assert hit.start == 4.0 and hit.chunk_start <= hit.start <= 9.0


def test_overlapping_hits_of_one_video_are_folded_into_one_moment(corpus):
    db, owner, group_id, _ = corpus
    hits = retriever(db, owner.id, group_id, k=50).hits("laptop")
    for i, a in enumerate(hits):
        for b in hits[i + 1:]:
            assert a.video_id != b.video_id or b.end <= a.chunk_start or b.chunk_start >= a.end


def test_a_sentence_that_says_the_questions_words_marks_its_chunk(clean_db, tmp_path):
    settings = load_settings()  # default chunks: each short test video is one chunk of several sentences
    with clean_db.session() as s:
        owner = make_account(s, "owner")
    group_id, ids = ingest_corpus(clean_db, settings, owner.id, tmp_path)
    with clean_db.session() as s:
        pool = retrieval.candidate_pool(s, group_id=group_id, workspace_id=home(s, owner.id), model=LocalMiniLM.model_name,
                                        query_vector=LocalMiniLM().embed_query("Bitwarden password"),
                                        query_text="Bitwarden password")
    said = {c.video_id: c.sentence_keyword_score for c in pool}
    assert said[ids["IT onboarding"]] > 0  # "We use Bitwarden as our password manager…"
    assert said.get(ids["Kitchen safety training"]) is None  # no sentence there says either word


def test_a_sentence_keyword_match_lifts_an_otherwise_equal_chunk():
    def candidate(chunk_id: int, said: float | None) -> retrieval.Candidate:
        return retrieval.Candidate(chunk_id, chunk_id, f"Video {chunk_id}", 0.0, 30.0, "text", 0.5, None,
                                   None, None, None, None, None, said)

    # Chunk 2 would win every tie on id; only its sentence keyword match can put it first.
    hits = retrieval.fuse([candidate(1, None), candidate(2, 3.5)], k=2)
    assert [h.chunk_id for h in hits] == [2, 1]
    assert [h.chunk_id for h in retrieval.fuse([candidate(1, None), candidate(2, 3.5)], k=2,
                                               sentence_keyword_weight=0.0)] == [1, 2]


def test_a_chunk_gains_from_its_best_overlapping_neighbour_only():
    """An answer usually spans overlapping chunks: a chunk gains part of the best score among the
    chunks of its own video it overlaps, never from one that ends where it starts or another video's."""
    def chunk(chunk_id: int, video_id: int, start: float, end: float, similarity: float) -> retrieval.Candidate:
        return retrieval.Candidate(chunk_id, video_id, "Talk", start, end, "text", similarity, None,
                                   None, None, None, None, None)

    lone = chunk(1, 1, 100.0, 130.0, 0.80)  # the best by itself, with no neighbour
    helped = chunk(2, 2, 40.0, 70.0, 0.70)  # overlaps 3 (strong) and 4 (weak)
    strong, weak = chunk(3, 2, 60.0, 90.0, 0.75), chunk(4, 2, 0.0, 45.0, 0.10)
    touching = chunk(5, 1, 130.0, 160.0, 0.90)  # starts where 1 ends: no overlap
    other_video = chunk(6, 3, 40.0, 70.0, 0.85)
    pool = [lone, helped, strong, weak, touching, other_video]
    plain = {h.chunk_id: h.score for h in retrieval.fuse(pool, k=6, merge=False, neighbour_share=0.0)}
    helped_by = {h.chunk_id: h.score for h in retrieval.fuse(pool, k=6, merge=False, neighbour_share=0.3)}
    assert helped_by[2] == pytest.approx(plain[2] + 0.3 * plain[3])  # the better of its two neighbours
    assert helped_by[4] == pytest.approx(plain[4] + 0.3 * plain[2])
    assert helped_by[1] == plain[1] and helped_by[5] == plain[5] and helped_by[6] == plain[6]


def test_what_is_shown_and_what_is_said_at_one_moment_are_both_cited_and_weighed_apart():
    def passage(chunk_id: int, similarity: float, kind: str) -> retrieval.Candidate:
        return retrieval.Candidate(chunk_id, 7, "Board slides", 10.0, 25.0, "text", similarity, None,
                                   10.0, 14.0, "text", similarity, None, kind=kind)

    said, shown = passage(1, 0.6, PassageKind.SPEECH), passage(2, 0.5, PassageKind.SCREEN)
    # Overlapping in time, in one video: two moments, not one folded into the other.
    assert [(h.chunk_id, h.kind) for h in retrieval.fuse([said, shown], k=5)] == [
        (1, PassageKind.SPEECH), (2, PassageKind.SCREEN)]
    assert [h.chunk_id for h in retrieval.fuse([said, shown], k=5, screen_weight=2.0)] == [2, 1]


def test_words_written_apart_or_glued_still_meet_the_transcripts_spelling(corpus):
    db, owner, group_id, ids = corpus
    assert "password" in retrieval.keyword_text("my pass word").split()
    assert retrieval.keyword_text("version 2.5").startswith("version 2.5")  # numbers keep their dot

    def keyword_hits(question: str) -> list[retrieval.Hit]:
        with db.session() as s:
            return retrieval.keyword_search(s, group_id=group_id, workspace_id=home(s, owner.id), model=LocalMiniLM.model_name,
                                            query_text=question, k=5, bm25=True)

    # The transcript says "password" and "helpdesk"; people type "pass word", "help desk".
    assert "password" in keyword_hits("where do I keep my pass word")[0].text.lower()
    assert "helpdesk" in keyword_hits("help desk hours")[0].text.lower()
    # A slash makes PostgreSQL read "vpn/bitwarden" as one path; split, both words match.
    assert {h.video_id for h in keyword_hits("vpn/bitwarden")} == {ids["IT onboarding"]}
    assert len(keyword_hits("vpn/bitwarden")) == 2


# ---------------------------------------------------------------- BM25's statistics, kept per video


def _counted_directly(session) -> dict[tuple, tuple[int, int]]:
    """Every video's document count and total length, read from the documents themselves."""
    rows = session.execute(text("""
        SELECT video_id, embedding_model, 'transcript_chunks', count(*), sum(length(search_vector))
          FROM transcript_chunks GROUP BY 1, 2
        UNION ALL
        SELECT video_id, embedding_model, 'transcript_sentences', count(*), sum(length(search_vector))
          FROM transcript_sentences GROUP BY 1, 2""")).all()
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def _kept(session) -> dict[tuple, tuple[int, int]]:
    rows = session.execute(text("SELECT video_id, embedding_model, kind, documents, total_length FROM keyword_stats "
                                "WHERE documents > 0")).all()
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def _postings_read_from_the_documents(session) -> dict[tuple, list[tuple[int, int, int]]]:
    """Each (video, model, kind, lexeme): the documents holding it, with how often and their length."""
    postings: dict[tuple, list[tuple[int, int, int]]] = {}
    for table in ("transcript_chunks", "transcript_sentences"):
        for r in session.execute(text(f"SELECT x.video_id, x.embedding_model, t.lexeme, x.id, "
                                      f"cardinality(t.positions), length(x.search_vector) "
                                      f"FROM {table} x, unnest(x.search_vector) t")):
            postings.setdefault((r[0], r[1], table, r[2]), []).append((r[3], r[4], r[5]))
    return {key: sorted(documents) for key, documents in postings.items()}


def _postings_kept(session) -> dict[tuple, list[tuple[int, int, int]]]:
    """The same, as keyword_terms keeps it (sorted, so a document listed twice shows)."""
    rows = session.execute(text("SELECT video_id, embedding_model, kind, lexeme, documents, document_ids, "
                                "term_counts, document_lengths FROM keyword_terms")).all()
    assert all(r.documents == len(r.document_ids) == len(r.term_counts) == len(r.document_lengths) for r in rows)
    return {(r[0], r[1], r[2], r[3]): sorted(zip(r.document_ids, r.term_counts, r.document_lengths)) for r in rows}


def test_bm25_statistics_stay_exact_through_ingestion_renames_edits_and_deletes(corpus):
    db, owner, group_id, ids = corpus

    def exact(s) -> bool:
        return _kept(s) == _counted_directly(s) and _postings_kept(s) == _postings_read_from_the_documents(s)

    with db.session() as s:
        assert exact(s) and len(_kept(s)) == 2 * len(ids)
        # A longer title lengthens every chunk's search vector (the title is in it) and adds words.
        library.update_video(s, owner.id, ids["IT onboarding"], title="IT onboarding for new starters in London",
                             description="")
    with db.session() as s:
        assert exact(s) and any(key[3] == "london" for key in _postings_kept(s))
        s.execute(text("DELETE FROM transcript_sentences WHERE video_id = :v AND sentence_index % 2 = 0"),
                  {"v": ids["Kitchen safety training"]})
    with db.session() as s:
        assert exact(s)
        # Vectors from another model (a re-index in progress): each model's counts stand apart.
        s.execute(text("UPDATE transcript_sentences SET embedding_model = 'other-model' "
                       "WHERE video_id = :v AND sentence_index % 3 = 0"), {"v": ids["IT onboarding"]})
    with db.session() as s:
        assert exact(s) and any(key[1] == "other-model" for key in _postings_kept(s))
    library.delete_video(db, load_settings(), owner.id, ids["Kitchen safety training"])
    with db.session() as s:
        assert exact(s)
        assert ids["Kitchen safety training"] not in {video for video, _, _ in _kept(s)}
        assert ids["Kitchen safety training"] not in {key[0] for key in _postings_kept(s)}


def _chunk_lexemes(session, owner_id: int) -> dict[int, tuple[int, dict[str, int]]]:
    """Each chunk of the owner's personal workspace: its length and its lexemes' frequencies, read
    from the chunk."""
    docs: dict[int, tuple[int, dict[str, int]]] = {}
    for chunk_id, length, lexeme, tf in session.execute(text(
            "SELECT c.id, length(c.search_vector), t.lexeme, cardinality(t.positions) "
            "FROM transcript_chunks c, unnest(c.search_vector) t WHERE c.workspace_id = :w"),
            {"w": home(session, owner_id)}):
        docs.setdefault(chunk_id, (length, {}))[1][lexeme] = tf
    return docs


def _okapi_bm25(session, docs, question: str) -> tuple[list[tuple[int, float]], dict[str, int]]:
    """Okapi BM25 of every chunk holding a query term, computed here from the chunks' own lexemes
    (the figure the SQL must reproduce from its stored statistics), and each term's document
    frequency."""
    terms = {r[0] for r in session.execute(text("SELECT lexeme FROM unnest(to_tsvector('english', :q))"),
                                           {"q": retrieval.keyword_text(question)})}
    n, avgdl = len(docs), max(sum(length for length, _ in docs.values()) / len(docs), 1)
    df = {t: sum(t in lexemes for _, lexemes in docs.values()) for t in terms}
    k1, b = retrieval.BM25_K1, retrieval.BM25_B
    scores = {chunk_id: sum(math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                            * lexemes[t] * (k1 + 1) / (lexemes[t] + k1 * (1 - b + b * length / avgdl))
                            for t in terms if t in lexemes)
              for chunk_id, (length, lexemes) in docs.items() if terms & lexemes.keys()}
    return sorted(scores.items(), key=lambda item: (-item[1], item[0])), df


def _bm25_side(session, owner, group_id, question, k, **budget):
    return retrieval.keyword_search(session, group_id=group_id, workspace_id=home(session, owner.id), model=LocalMiniLM.model_name,
                                    query_text=question, k=k, bm25=True, **budget)


def test_the_keyword_side_scores_exactly_okapi_bm25_over_the_group(corpus):
    db, owner, group_id, ids = corpus
    question = "Which password manager do we use, and where is the fire extinguisher?"
    with db.session() as s:
        expected = _okapi_bm25(s, _chunk_lexemes(s, owner.id), question)[0][:8]
        got = _bm25_side(s, owner, group_id, question, 8)
    assert [h.chunk_id for h in got] == [chunk_id for chunk_id, _ in expected]
    assert [h.score for h in got] == pytest.approx([score for _, score in expected], rel=1e-9)


@pytest.mark.parametrize("by_position_up_to", [retrieval.ADMITTED_BY_POSITION, 0])
def test_over_its_budget_the_keyword_side_scores_only_chunks_with_the_rarest_words(corpus, monkeypatch,
                                                                                   by_position_up_to):
    """A whole library's common words would cost seconds to score everywhere; over the budget,
    the chunks holding the rarest word are scored, still exactly, and when even that word is too
    common, the chunks holding the rarest words together. The same whether their other words are
    looked up by position (a video with few such chunks) or their video's postings unpacked."""
    monkeypatch.setattr(retrieval, "ADMITTED_BY_POSITION", by_position_up_to)
    db, owner, group_id, ids = corpus
    question = "Which laptop does the onboarding cover?"  # "laptop" in two chunks, "onboarding" (the title) in all five
    with db.session() as s:
        docs = _chunk_lexemes(s, owner.id)
        scores, df = _okapi_bm25(s, docs, question)
        (rarest_df, rarest), (_, second) = sorted((d, t) for t, d in df.items() if d)[:2]
        assert rarest_df == 2 and (rarest, second) == ("laptop", "onboard")
        within = _bm25_side(s, owner, group_id, question, 50, posting_budget=rarest_df)
        over = _bm25_side(s, owner, group_id, question, 50, posting_budget=rarest_df - 1)
    expected = [(chunk_id, score) for chunk_id, score in scores if rarest in docs[chunk_id][1]]
    assert [(h.chunk_id, h.score) for h in within] == [(i, pytest.approx(x, rel=1e-9)) for i, x in expected]
    assert len(expected) < len(scores)  # chunks that say only "onboarding" went unscored
    assert over and all({rarest, second} <= docs[h.chunk_id][1].keys() for h in over)


def test_a_passage_keeps_its_word_coverage_when_the_budget_scores_only_the_rarest_words(corpus):
    """Over the budget only the videos saying the rarest word have their postings read; a passage
    of another video, found by its meaning, still counts the question's words it holds (the found
    rule reads that)."""
    db, owner, group_id, ids = corpus
    question = "Where is the fire extinguisher, and which password manager do we use?"
    vector = LocalMiniLM().embed_query(question)
    with db.session() as s:
        docs = _chunk_lexemes(s, owner.id)
        video_of = dict(s.execute(text("SELECT id, video_id FROM transcript_chunks")).all())
        _, df = _okapi_bm25(s, docs, question)
        rarest_df, rarest = min((d, t) for t, d in df.items() if d)

        def coverage(**budget) -> dict[int, float]:
            pool = retrieval.candidate_pool(s, group_id=group_id, workspace_id=home(s, owner.id),
                                            model=LocalMiniLM.model_name, query_vector=vector, query_text=question,
                                            **budget)
            return {c.chunk_id: c.keyword_coverage for c in pool}

        exact, budgeted = coverage(), coverage(posting_budget=rarest_df)
    saying = {video_of[i] for i, (_, lexemes) in docs.items() if rarest in lexemes}
    elsewhere = [i for i in budgeted if video_of[i] not in saying and budgeted[i] > 0]
    assert elsewhere  # no keyword side read that video, and its passage still covers the question's words
    both = budgeted.keys() & exact.keys()
    assert {i: budgeted[i] for i in both} == pytest.approx({i: exact[i] for i in both})


def test_asking_everything_ranks_as_a_group_of_every_video_does(corpus):
    db, owner, group_id, ids = corpus
    vector = LocalMiniLM().embed_query("Where is the fire extinguisher?")
    with db.session() as s:
        scope = {"workspace_id": home(s, owner.id), "model": LocalMiniLM.model_name, "query_vector": vector,
                 "query_text": "Where is the fire extinguisher?", "k": 8}
        everything = retrieval.search(s, group_id=None, **scope)
        grouped = retrieval.search(s, group_id=group_id, **scope)
    assert everything and [(h.chunk_id, h.score) for h in everything] == [(h.chunk_id, h.score) for h in grouped]


@pytest.mark.parametrize("scope", ["group", "video", "everything"])
def test_a_scope_read_through_the_whole_tables_indexes_finds_what_reading_it_by_video_does(corpus, scope):
    """A large scope (a whole library) is searched by vector through the HNSW indexes of the whole
    table, a small one video by video (the keyword side reads per-video postings either way): the
    same question must find the same moments either way."""
    db, owner, group_id, ids = corpus
    question = "Where is the fire extinguisher, and which password manager do we use?"
    target = {"group": {"group_id": group_id}, "video": {"group_id": None, "video_id": ids["IT onboarding"]},
              "everything": {"group_id": None}}[scope]
    allowed = {"group": set(ids.values()) - {ids["Kitchen safety training"]}, "video": {ids["IT onboarding"]},
               "everything": set(ids.values())}[scope]
    with db.session() as s:
        groups.remove_video(s, owner.id, group_id, ids["Kitchen safety training"])
        someone_else = make_account(s, "mallory")
    captioned_group(db, someone_else.id, {"Mallory's kitchen": KITCHEN})  # the same words, another owner
    vector = LocalMiniLM().embed_query(question)
    found = {}
    for by_index in (True, False):
        with db.session() as s:
            pool = retrieval.candidate_pool(s, **target, workspace_id=home(s, owner.id), model=LocalMiniLM.model_name,
                                            query_vector=vector, query_text=question, by_index=by_index)
        found[by_index] = sorted((c.chunk_id, c.bm25_rank, round(c.similarity, 6), c.sentence_keyword_score,
                                  round(c.keyword_coverage, 6)) for c in pool)
        assert {c.video_id for c in pool} <= allowed
    assert found[True] and found[True] == found[False]
    assert any(rank is not None for _, rank, *_ in found[True])  # the keyword side took part


def test_a_small_scope_asked_again_reuses_its_plan_and_finds_the_same(corpus):
    """A group read video by video has one good plan: once psycopg has prepared the question's SQL,
    PostgreSQL reuses a generic plan instead of planning each question again, and finds the same
    moments. A scope read through the HNSW indexes is planned afresh each time (its best plan
    depends on its size, and only a custom plan can use a workspace's own partial indexes)."""
    db, owner, group_id, _ = corpus
    question = "Where is the fire extinguisher?"
    vector = LocalMiniLM().embed_query(question)
    with db.session() as s:  # one connection, where psycopg prepares a statement on its fifth run
        scope = {"group_id": group_id, "workspace_id": home(s, owner.id), "model": LocalMiniLM.model_name,
                 "query_vector": vector, "query_text": question}
        first = retrieval.candidate_pool(s, **scope)
        again = [retrieval.candidate_pool(s, **scope) for _ in range(7)]
        for _ in range(7):
            retrieval.candidate_pool(s, **scope, by_index=True)
        # The index path checks each row's group membership by a lookup.
        plans = s.execute(text("SELECT statement LIKE '%(SELECT true FROM video_group_members%' AS by_index, "
                               "generic_plans, custom_plans FROM pg_prepared_statements "
                               "WHERE statement LIKE '%near_sentences%'")).all()
    assert first and all(pool == first for pool in again)
    assert {(by_index, generic > 0, custom > 0) for by_index, generic, custom in plans} == {(False, True, False),
                                                                                            (True, False, True)}
