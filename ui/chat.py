"""The chat over one group, shared by the owner's Ask page and the share-link page.

What is on screen is the open conversation as stored (core/conversations.py), so a reload or a
second tab shows the same; a question asked with no conversation open starts one.
"""

from __future__ import annotations

import uuid

import streamlit as st

from core import answers, content_templates, conversations, library
from core.answers import Answer, AnswerError, AnswerNotSaved, Citation
from core.conversations import ConversationNotFound
from core.database import UNREACHABLE_MESSAGE, DatabaseUnreachable
from core.errors import AskVideoError
from core.states import AnswerMode, Feedback
from ui import conversations as conversation_ui
from ui import moment_reel, video_tools
from ui.media import media_url, play_titled
from ui.session import database, settings
from ui.widgets import claims_markdown, md, moment, show_error

FEEDBACK = {1: Feedback.GOOD, 0: Feedback.BAD, None: None}


def _pending(key: str, conversation_id: int | None) -> list[dict]:
    """Exchanges only this browser holds: a question that failed or was interrupted (with "Ask
    again") and an answer written while the database was away. Stored answers come from the
    conversation itself."""
    return st.session_state.setdefault(f"chat-{key}-{conversation_id or 'new'}", [])


PLAYER_CSS = """<style>
/* The player's column stays in view while the conversation scrolls, so a citation plays where
   the user can see it. */
div[data-testid="stColumn"]:has(.st-key-askvideo-player) {
  position: sticky; top: 3.75rem; align-self: flex-start; z-index: 2;
}
</style>"""


def _player(key: str, owner_id: int, shared_group_id: int | None, fallback: Citation | None) -> int | None:
    """The player column: one moment, or an answer's cited moments in turn (then the number of
    the citation playing is returned, for its source to be highlighted)."""
    if reel := st.session_state.get(f"reel-{key}"):
        st.markdown(f"**Playing the cited moments** · {md(conversations.title_of(reel['question']))}")
        playing = moment_reel.reel(f"reel-player-{key}", reel["id"], reel["moments"])
        if st.button("Stop", key=f"reel-stop-{key}", icon=":material/stop:"):
            del st.session_state[f"reel-{key}"]
            st.rerun()
        return playing
    chosen = st.session_state.get(f"player-{key}")
    autoplay = bool(chosen)
    if not chosen and fallback is not None:  # a reopened conversation shows its last cited moment, paused
        chosen = (fallback.video_id, fallback.start, fallback.title, fallback.label)
    if not chosen:
        st.caption("Click a source under an answer to play the video from that moment.")
        return
    video_id, start, title, label = chosen
    play_titled(owner_id, video_id, start, title, label, in_group=shared_group_id, autoplay=autoplay)
    return None


def play_moment(key: str, video_id: int, start: float, title: str, label: str) -> None:
    """Point the chat's player at a moment (a citation, a chapter, a comment's anchor)."""
    playing = st.session_state.get(f"player-{key}")
    start = moment(playing[1] if playing and playing[0] == video_id else None, start)
    st.session_state[f"player-{key}"] = (video_id, start, title, label)
    st.session_state.pop(f"reel-{key}", None)


def _play_all(key: str, exchange_id: str, answer: Answer, owner_id: int, shared_group_id: int | None) -> bool:
    """Queue the answer's cited moments (those with a stored file) for the player; False if none has one."""
    moments = []
    with database().session() as session:
        for citation in answer.citations:
            try:
                source = library.playable(session, settings(), owner_id, citation.video_id, in_group=shared_group_id)
            except AskVideoError:
                continue
            if source.media_path and (src := media_url("video", citation.video_id)):
                moments.append({"n": citation.n, "src": src, "start": citation.start, "end": citation.end,
                                "label": f"[{citation.n}] {citation.title} · {citation.label}"})
    if not moments:
        return False
    st.session_state[f"reel-{key}"] = {"id": f"{exchange_id}-{uuid.uuid4().hex[:8]}", "exchange": exchange_id,
                                       "question": answer.question, "moments": moments}
    st.session_state.pop(f"player-{key}", None)
    return True


def _sources(key: str, exchange_id: str, answer: Answer, owner_id: int, shared_group_id: int | None,
             playing: int | None, *, clips: bool) -> None:
    """The answer's cited moments, each playing from its second (or, when nothing was found, the
    moments that came closest, said to be no answer); with `clips` (an editor, not through a share
    link), each can be cut into a clip."""
    moments = answer.citations or answer.closest
    if not moments:
        return
    heading = st.container(horizontal=True, vertical_alignment="center", gap="small")
    if not answer.citations:
        heading.caption("Closest moments: none of them seems to answer the question, but one may be what you meant")
    else:
        heading.caption("Sources")
    if len(answer.citations) > 1 and heading.button(
            "Play the cited moments", key=f"reel-{key}-{exchange_id}", icon=":material/playlist_play:",
            type="tertiary", help="Each cited moment in turn, for as long as it is cited"):
        if not _play_all(key, exchange_id, answer, owner_id, shared_group_id):
            st.info("None of these moments has a stored file to play in turn: play them one by one.")
        else:
            st.rerun()
    reel = st.session_state.get(f"reel-{key}")
    now = playing if reel and reel["exchange"] == exchange_id and answer.citations else None
    for citation in moments:
        # One row that sizes each button to its label (a fixed column squashed "Clip" to "C…");
        # the clip button wraps under a long title rather than shrinking.
        row = st.container(horizontal=True, vertical_alignment="center", gap="small")
        if citation.on_screen and citation.thumbnail and citation.chunk_id and (
                picture := media_url("screen", citation.chunk_id)):
            row.image(picture, width=120, caption=f"[{citation.n}] on screen")
        shown = " · on screen" if citation.on_screen else ""
        if row.button(f"[{citation.n}] {md(citation.title)} · {citation.label}{shown}",
                      key=f"cite-{key}-{exchange_id}-{citation.n}",
                      icon=":material/slideshow:" if citation.on_screen else ":material/play_circle:",
                      type="primary" if citation.n == now else "secondary",
                      help="Playing now" if citation.n == now else (
                          "Text shown on screen: play from when it appears" if citation.on_screen
                          else "Play from this moment")):
            play_moment(key, citation.video_id, citation.start, citation.title, citation.label)
            st.rerun()
        if clips and row.button("Clip", key=f"clip-{key}-{exchange_id}-{citation.n}",
                                     icon=":material/content_cut:", help="Cut this moment into a clip (Library → Clips)"):
            video_tools.request(owner_id, citation.video_id, citation.start, citation.end,
                                f"{conversations.title_of(answer.question)} · {citation.title}", cited=True)
        if answer.mode != AnswerMode.EXTRACTIVE:  # an offline answer's quote above is this snippet already
            st.caption(md(citation.snippet))


def _answer_context(owner_id: int, log_id: int) -> dict:
    with database().session() as session:
        return content_templates.context_for_answer(session, owner_id, log_id)


def _feedback(key: str, answer: Answer, owner_id: int, shared_group_id: int | None) -> None:
    def changed() -> None:
        value = FEEDBACK[st.session_state.get(f"fb-{key}-{answer.log_id}")]
        try:
            with database().session() as session:
                answers.set_feedback(session, answer.log_id, value, user_id=owner_id,
                                     shared_group_id=shared_group_id)
        except AskVideoError as error:
            st.session_state[f"fb-error-{key}"] = str(error)

    stored = {Feedback.GOOD: 1, Feedback.BAD: 0}.get(answer.feedback)
    st.feedback("thumbs", key=f"fb-{key}-{answer.log_id}", on_change=changed, default=stored)


def render_chat(*, key: str, group_id: int | None, owner_id: int, shared: bool, conversation_id: int | None = None,
                visitor_token: str | None = None, video_id: int | None = None, workspace_id: int | None = None,
                edits: bool = False) -> None:
    """A chat column and a player column for one group (or one video, or with neither all the
    videos of `workspace_id`), showing the open conversation. `owner_id` is who asks: the
    signed-in user, or for a share link's visitor the workspace's owner holding their conversations."""
    stored: list[Answer] = []
    if conversation_id is not None:
        try:
            with database().session() as session:
                stored = answers.stored_answers(session, owner_id, conversation_id, visitor_token=visitor_token)
        except ConversationNotFound as error:
            show_error(error)
            conversation_ui.open_conversation(None)
            conversation_id = None
    pending = _pending(key, conversation_id)
    history = [{"question": a.question, "answer": a, "id": f"log{a.log_id}"} for a in stored] + pending
    last_cited = next((a.citations[0] for a in reversed(stored) if a.citations), None)
    st.html(PLAYER_CSS)
    chat_col, player_col = st.columns([3, 2], gap="large")
    with player_col, st.container(key="askvideo-player"):
        playing = _player(key, owner_id, group_id if shared else None, last_cited)
    with chat_col:
        if error := st.session_state.pop(f"fb-error-{key}", None):
            show_error(error)
        post_types = None  # the user's post formats, read once for all answers on the page
        for exchange in history:
            exchange_id = exchange["id"]
            with st.chat_message("user"):
                st.markdown(md(exchange["question"]))
            with st.chat_message("assistant"):
                answer: Answer | None = exchange.get("answer")
                if answer is None:
                    show_error(exchange.get("error") or "No answer.")
                    if st.button("Ask again", key=f"again-{key}-{exchange_id}"):
                        st.session_state[f"pending-{key}"] = exchange["question"]
                        pending.remove(exchange)
                        st.rerun()
                    continue
                st.markdown(claims_markdown(answer.text, answer.claims))
                _sources(key, exchange_id, answer, owner_id, group_id if shared else None, playing,
                         clips=not shared and edits)
                if answer.log_id is None:
                    _unsaved(key, exchange, conversation_id)
                    continue
                _feedback(key, answer, owner_id, group_id if shared else None)
                if not shared and answer.citations:
                    if post_types is None:
                        with database().session() as session:
                            post_types = content_templates.content_types(session, owner_id,
                                                                         workspace_id=workspace_id)
                    with st.popover("Create a post", icon=":material/edit_note:"):
                        video_tools.post_maker(f"post-{key}-{answer.log_id}", owner_id,
                                               lambda log_id=answer.log_id: _answer_context(owner_id, log_id),
                                               post_types, workspace_id=workspace_id)
        # A question being answered joins the conversation where it will stay, above the input
        # (below it, it jumped back up once answered).
        asking = st.container()
        question = st.chat_input("Ask about this video" if video_id else "Ask about these videos", key=f"input-{key}",
                                 max_chars=answers.MAX_QUESTION_CHARS)
        question = question or st.session_state.pop(f"pending-{key}", None)
        if question:
            with asking:
                _ask(key, question, group_id=group_id, video_id=video_id, owner_id=owner_id, shared=shared,
                     conversation_id=conversation_id, visitor_token=visitor_token, workspace_id=workspace_id)


def _ask(key: str, question: str, *, group_id: int | None, video_id: int | None, owner_id: int, shared: bool,
         conversation_id: int | None, visitor_token: str | None, workspace_id: int | None) -> None:
    pending = _pending(key, conversation_id)
    with st.chat_message("user"):
        st.markdown(md(question))
    with st.chat_message("assistant"):
        # Kept before any work: a click elsewhere stops this run mid-answer, and the question must
        # then still be there, with "Ask again".
        exchange = {"id": f"p{uuid.uuid4().hex[:12]}", "question": question, "answer": None,
                    "error": "The answer was interrupted before it finished."}
        pending.append(exchange)
        try:
            with st.spinner("Searching the videos…"):
                prepared = answers.begin(database(), settings(), group_id=group_id, video_id=video_id,
                                         user_id=owner_id, question=question, shared=shared,
                                         conversation_id=conversation_id, visitor_token=visitor_token,
                                         workspace_id=workspace_id)
            raw: list[str] = []

            def escaped():
                # Shown escaped as it arrives (never as live markdown); the raw text is stored.
                for piece in answers.stream(prepared):
                    raw.append(piece)
                    yield md(piece)

            st.write_stream(escaped())
            with st.spinner("Checking the answer against its sources…"):
                answer = answers.finish(database(), prepared, "".join(raw))
        except AnswerNotSaved as unsaved:  # shown, and kept in this browser until it can be stored
            exchange.update(answer=unsaved.answer, error=None, unsaved=prepared)
        except (AnswerError, AskVideoError) as error:
            exchange["error"] = str(error)
        except DatabaseUnreachable:
            exchange["error"] = UNREACHABLE_MESSAGE
        else:
            _stored(key, pending, exchange, conversation_id, answer.conversation_id)
    st.rerun()


def _stored(key: str, pending: list[dict], exchange: dict, was: int | None, now: int | None) -> None:
    """An answer is stored: it shows from its conversation now, which the URL opens (a first
    answer started it; what failed before it moves along)."""
    pending.remove(exchange)
    if now != was:
        st.session_state.pop(f"chat-{key}-{was or 'new'}", None)
        if pending:
            st.session_state[f"chat-{key}-{now}"] = pending
        conversation_ui.open_conversation(now)


def _unsaved(key: str, exchange: dict, conversation_id: int | None) -> None:
    """An answer written while the database was away: say so, and store it when asked."""
    st.warning(AnswerNotSaved(exchange["answer"]).args[0])
    if st.button("Save this answer", key=f"save-{key}-{exchange['id']}", icon=":material/save:"):
        try:
            saved = answers.save(database(), exchange["unsaved"], exchange["answer"])
        except AnswerNotSaved:
            show_error(UNREACHABLE_MESSAGE)
            return
        _stored(key, _pending(key, conversation_id), exchange, conversation_id, saved.conversation_id)
        st.rerun()
