"""Every sentence of an answer is checked against the passage it cites, offline or by the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import answers, claims, model_settings
from core.embeddings import LocalMiniLM
from db.models import ChatLog
from tests.factories import make_account
from tests.test_answers import ask, corpus, settings, use_model  # noqa: F401 — fixtures

LABELLED = [json.loads(line) for line in (Path(__file__).parent / "data" / "claims.jsonl").read_text().splitlines()]
VERDICTS = json.dumps({"claims": [{"id": 1, "supported": True}, {"id": 2, "supported": False}]})


def checked(answer: str, passage: str) -> list[claims.CheckedClaim]:
    """An answer's claims, each checked offline against the one passage [1]."""
    return claims.check_offline(claims.split_claims(answer), {1: passage}, LocalMiniLM())


def stored(db, log_id):
    with db.session() as s:
        log = s.get(ChatLog, log_id)
        return log.claims, log.support_score


@pytest.mark.parametrize("row", LABELLED, ids=[r["claim"][:40] for r in LABELLED])
def test_each_labelled_claim_lands_on_its_side_of_the_line(row):
    """The threshold was chosen on this set; a change to the check that moves a claim across fails."""
    [checked] = claims.check_offline(claims.split_claims(row["claim"]), {1: row["passage"]}, LocalMiniLM())
    assert checked.supported is row["supported"], checked.score


def test_an_answer_splits_into_claims_with_their_citations():
    text = ("Open the Layers panel [1]. Then choose Prevent Auto-Nesting. [2][3]\n"
            "- Export it as a PNG file for the web [2]!\nHere is how. That is all the videos say about it")
    assert [(c.sentence, c.sources) for c in claims.split_claims(text)] == [
        ("Open the Layers panel [1].", (1,)),
        ("Then choose Prevent Auto-Nesting. [2][3]", (2, 3)),
        ("- Export it as a PNG file for the web [2]!", (2,)),
        ("That is all the videos say about it", ()),  # uncited but long enough to claim something
    ]
    assert claims.split_claims("The videos do not cover that. Try other words, please.") == []


def test_a_wrong_number_is_not_supported_even_when_the_rest_matches():
    passage = {1: "For help call the helpdesk on extension 4411, open weekdays. Emails go to the IT team."}
    right, wrong = claims.check_offline(
        claims.split_claims("The helpdesk is on extension 4411 [1]. The helpdesk is on extension 4412 [1]."),
        passage, LocalMiniLM())
    assert right.supported and not wrong.supported and wrong.score < right.score
    assert claims.support_score([right, wrong]) == 0.5 and claims.support_score([]) is None


def test_first_that_orders_a_step_is_no_number_but_a_first_quarter_is():
    """"Rasterize the layer first" states no number, so a passage without one can still back it;
    "the first quarter" against "the third quarter" is a changed specific."""
    [step] = checked("You need to rasterize the photo layer first [1].",
                     "Before you can paint on the photo layer, you need to rasterize the layer.")
    assert step.supported, step.score
    [quarter] = checked("Revenue grew by twenty percent in the first quarter [1].",
                        "Revenue grew by twenty percent in the third quarter.")
    assert not quarter.supported, quarter.score


def test_a_shortcut_with_another_key_is_not_supported():
    right, wrong = checked("Press Command + Z again to bring it back [1]. Press Command + Y to bring it back [1].",
                           "I can bring it back by pressing Command + Z again, or Ctrl + Z again.")
    assert right.supported and not wrong.supported, (right.score, wrong.score)


def test_a_claim_that_swaps_a_word_for_its_opposite_is_not_supported():
    """A wrong claim often keeps every word of its passage but one, turned round."""
    right, wrong = checked("An adjustment layer adjusts the content of the layers below it [1]. "
                           "An adjustment layer applies its adjustments to the layers above it [1].",
                           "An adjustment layer applies its adjustments to the content on the layers below it.")
    assert right.supported and not wrong.supported, (right.score, wrong.score)
    # a passage that says both words backs a claim with either
    [either] = checked("Dragging the slider to the right lightens the image [1].",
                       "Drag the slider to the left to darken the image, or to the right to lighten it.")
    assert either.supported, either.score
    # a passage's "selection" says the "select" side, whatever else it deselects
    [select] = checked("Select the triangle with the Lasso tool [1].",
                       "After you deselect the circle, make a selection around the triangle with the Lasso tool.")
    assert select.supported, select.score


def test_a_key_or_name_the_passage_never_says_is_not_supported_unless_the_question_says_it():
    passage = {1: "To copy a layer, hold the Alt key and drag the layer up in the Layers panel."}
    invented, named = claims.split_claims("To copy a layer, press Ctrl+J in the Layers panel [1]. "
                                          "In Photoshop, hold Alt and drag the layer up to copy it [1].")
    assert [c.supported for c in claims.check_offline([invented, named], passage, LocalMiniLM())] == [False, False]
    asked = claims.check_offline([invented, named], passage, LocalMiniLM(), context="How do I copy a layer in Photoshop?")
    assert [c.supported for c in asked] == [False, True]


@pytest.mark.parametrize("reply", [
    "", "Sure! Both claims look fine.", "{not json", '{"claims": "all good"}', '[{"id": 1, "supported": "yes"}]',
    '{"claims": [{"id": 1, "supported": true}]}',  # one verdict for two claims
    '{"claims": [{"supported": true}, {"supported": false}]}',
])
def test_junk_from_the_model_is_refused(reply):
    with pytest.raises(claims.ClaimCheckFailed):
        claims.read_verdicts(reply, 2)


def test_verdicts_are_read_through_fences_and_chatter():
    reply = f"Here you go:\n```json\n{VERDICTS}\n```\nAnything else?"
    assert claims.read_verdicts(reply, 2) == [True, False]
    assert claims.read_verdicts('[{"id": "2", "supported": false}, {"id": 1, "supported": true}]', 2) == [True, False]


# ----------------------------------------------------------------- answers, stored


def test_offline_quotes_are_their_own_support(clean_db, settings, corpus):
    owner, group_id, _ = corpus
    _, _, answer = ask(clean_db, settings, owner, group_id, "Where is the fire extinguisher?")
    assert answer.claims and all(c["supported"] and c["by"] == "quote" for c in answer.claims)
    assert [c["source"] for c in answer.claims] == [c.n for c in answer.citations]
    assert stored(clean_db, answer.log_id) == (answer.claims, 1.0)
    _, _, nothing = ask(clean_db, settings, owner, group_id, "What is the capital of Mongolia?")
    assert stored(clean_db, nothing.log_id) == ([], None)


def test_a_model_sentence_its_source_does_not_say_is_marked_unsupported(clean_db, settings, corpus, fake_openai):
    owner, group_id, _ = corpus
    use_model(clean_db, settings, owner, fake_openai)
    fake_openai.chat_reply = "Globex renewed for three years [1]. Globex renewed for five years [1]."
    prepared, _, answer = ask(clean_db, settings, owner, group_id, "Which customer renewed their contract?")
    assert "Globex" in prepared.passages[0].snippet
    rows, score = stored(clean_db, answer.log_id)
    assert [(c["sentence"], c["source"], c["supported"], c["by"]) for c in rows] == [
        ("Globex renewed for three years [1].", 1, True, "offline"),
        ("Globex renewed for five years [1].", 1, False, "offline")]
    assert score == 0.5 == answer.support_score and answer.unsupported == [rows[1]]
    assert len([r for r in fake_openai.requests if r.is_chat]) == 1  # no consent: no extra call


def test_with_consent_the_model_judges_all_claims_in_one_call(clean_db, settings, corpus, fake_openai):
    owner, group_id, _ = corpus
    use_model(clean_db, settings, owner, fake_openai)
    with clean_db.session() as s:
        model_settings.set_check_claims_with_model(s, owner.id, True)
    fake_openai.chat_reply = "Globex renewed for three years [1]. They also bought a <b>boat</b> [2]."
    fake_openai.rewrite_reply = VERDICTS  # what a non-streamed call answers
    _, _, answer = ask(clean_db, settings, owner, group_id, "Which customer renewed their contract?")
    answer_call, judge = [r.json() for r in fake_openai.requests if r.is_chat]
    assert answer_call["stream"] is True and judge["stream"] is False
    system, user = judge["messages"][0]["content"], judge["messages"][1]["content"]
    assert system == answers.prompt("claims_system")
    assert '<claim id="2" cites="2">They also bought a &lt;b&gt;boat&lt;/b&gt;.</claim>' in user
    assert '<passage id="1">' in user and '<passage id="3">' not in user  # only the cited passages
    rows, score = stored(clean_db, answer.log_id)
    assert [(c["supported"], c["by"]) for c in rows] == [(True, "model"), (False, "model")] and score == 0.5


@pytest.mark.parametrize("trouble", ["junk", "error"])
def test_a_failed_model_check_falls_back_to_the_offline_one(clean_db, settings, corpus, fake_openai, trouble):
    owner, group_id, _ = corpus
    use_model(clean_db, settings, owner, fake_openai)
    with clean_db.session() as s:
        model_settings.set_check_claims_with_model(s, owner.id, True)
    fake_openai.chat_reply = "Globex renewed for three years [1]. Globex renewed for five years [1]."
    fake_openai.rewrite_reply = "I think they are mostly fine!"
    prepared = answers.prepare(clean_db, settings, group_id=group_id, user_id=owner.id,
                               question="Which customer renewed their contract?")
    text = "".join(answers.stream(prepared))
    if trouble == "error":
        fake_openai.fail_with = 500  # the answer came; the judging call fails
    answer = answers.finish(clean_db, prepared, text)
    rows, score = stored(clean_db, answer.log_id)
    assert [(c["supported"], c["by"]) for c in rows] == [(True, "offline"), (False, "offline")] and score == 0.5


def test_the_consent_is_stored_and_off_by_default(session):
    account = make_account(session)
    assert model_settings.checks_claims_with_model(session, account.id) is False
    model_settings.set_check_claims_with_model(session, account.id, True)
    assert model_settings.checks_claims_with_model(session, account.id) is True
