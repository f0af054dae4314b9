"""Analytics' review loop: a reviewer's pass over an opened exchange (reviewed, note, the pinned
moment), the pinned questions retrieval still misses, and each group's regression score. Every
text from people or transcripts goes through `md()`; every id goes back to core, which checks it."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from core import library, regression, review
from core.analytics import Scope
from core.errors import AskVideoError
from core.queue import QueueUnavailable
from core.transcripts import format_timestamp, parse_timestamp
from ui.media import play
from ui.session import database, settings
from ui.widgets import apply, md, plural, show_error

REFRESH_SECONDS = 2
BY_SENTENCE, BY_TIME = "From the transcript", "By time"


def _moment(title: str, start: float, end: float) -> str:
    return f"{md(title)} @ {format_timestamp(start)}–{format_timestamp(end)}"


def _player(owner_id: int, video_id: int, start: float) -> None:
    try:
        with database().session() as session:
            where_from = library.playable(session, settings(), owner_id, video_id)
        if not play(video_id, where_from.media_path, where_from.web_url, start):
            st.caption("This video has no playable file.")
    except AskVideoError:
        st.caption("That video has been deleted.")


def _queue_check(scope: Scope, group_id: int, reason: str) -> bool:
    try:
        regression.queue_run(database(), scope, group_id, reason)
    except QueueUnavailable as error:
        show_error(error)
        return False
    return True


# ------------------------------------------------------------------ one exchange


def exchange_panel(scope: Scope, exchange: dict) -> None:
    """Below an opened exchange: mark it reviewed, keep a note, pin the moment that answers it."""
    log_id = exchange["id"]
    try:
        with database().session() as session:
            state = review.review(session, scope, log_id)
            videos = review.group_videos(session, scope, log_id)
    except AskVideoError as error:
        show_error(error)
        return
    st.divider()
    status, toggle = st.columns([3, 1], vertical_alignment="center")
    if state.reviewed_at:
        status.caption(f"Reviewed by {md(state.reviewed_by or 'someone')} on {state.reviewed_at:%Y-%m-%d %H:%M}")
        if toggle.button("Mark not reviewed", key=f"review-undo-{log_id}", icon=":material/undo:"):
            apply(review.mark_reviewed, scope, log_id, False, success="Marked not reviewed")
    else:
        status.caption("Not reviewed yet")
        if toggle.button("Mark reviewed", key=f"review-done-{log_id}", icon=":material/check:", type="primary"):
            apply(review.mark_reviewed, scope, log_id, True, success="Marked reviewed")
    if state.note:
        st.markdown(f"**Note:** {md(state.note)}")
    with st.form(f"review-note-{log_id}", border=False):
        note = st.text_area("Reviewer's note", value=state.note, max_chars=review.MAX_NOTE_CHARS, height=80,
                            help="Plain text, for whoever reviews next")
        if st.form_submit_button("Save note"):
            apply(review.set_note, scope, log_id, note, success="Note saved")

    st.markdown("**The moment that answers it**")
    if state.pinned:
        pinned = state.pinned
        shown, remove = st.columns([3, 1], vertical_alignment="center")
        shown.markdown(f"Pinned: “{md(pinned.question)}” → {_moment(pinned.video_title, pinned.start, pinned.end)}")
        if remove.button("Remove pin", key=f"review-unpin-{log_id}", icon=":material/delete:"):
            apply(review.unpin, scope, pinned.id, success="Pin removed")
    if state.group_id is None:
        st.caption(review.NOT_IN_A_GROUP)
        return
    if not videos:
        st.caption("This group has no videos left to pin a moment in.")
        return
    _pin_form(scope, exchange, state, videos)


def _pin_form(scope: Scope, exchange: dict, state: review.Review, videos: list) -> None:
    log_id, owner_id = exchange["id"], exchange["owner_id"]
    titles = {v[0]: v[1] for v in videos}
    default_video = state.pinned.video_id if state.pinned and state.pinned.video_id in titles else videos[0][0]
    question = st.text_input("Question", value=state.pinned.question if state.pinned else exchange["question"],
                             max_chars=review.MAX_QUESTION_CHARS, key=f"pin-question-{log_id}",
                             help="As asked; edit it if the wording should be checked another way")
    video_id = st.selectbox("Video", list(titles), index=list(titles).index(default_video), format_func=titles.get,
                            key=f"pin-video-{log_id}")
    how = st.radio("Choose the second", [BY_SENTENCE, BY_TIME], horizontal=True, key=f"pin-how-{log_id}",
                   help="A sentence picked from the transcript is the moment, from its start to its end; "
                        f"a time you type or play covers {int(review.PIN_WINDOW_S)} s from there.")
    start, end = None, None
    player_key = f"pin-player-{log_id}"
    if how == BY_SENTENCE:
        with database().session() as session:
            lines = review.transcript_lines(session, scope, log_id, video_id)
        if not lines:
            st.caption("This video has no transcript sentences; choose the second by time.")
        else:
            chosen = st.selectbox("Sentence (type to search)", range(len(lines)), key=f"pin-line-{log_id}-{video_id}",
                                  format_func=lambda i: f"{format_timestamp(lines[i].start)} · {lines[i].text[:140]}")
            start, end = lines[chosen].start, lines[chosen].end
    else:
        typed = st.text_input("Starts at (mm:ss or seconds)", key=f"pin-time-{log_id}", placeholder="1:05")
        if typed.strip():
            try:
                start = parse_timestamp(typed)
            except ValueError as error:
                show_error(error)
    play_col, pin_col = st.columns(2)
    if play_col.button("Play from there", key=f"pin-play-{log_id}", icon=":material/play_circle:",
                       disabled=start is None):
        st.session_state[player_key] = (video_id, start)
    if pin_col.button("Pin this moment", key=f"pin-save-{log_id}", icon=":material/push_pin:", type="primary",
                      disabled=start is None):
        try:
            with database().session() as session:
                pinned = review.pin(session, scope, log_id, video_id=video_id, start_s=start, end_s=end,
                                    question=question)
        except AskVideoError as error:
            show_error(error)
        else:
            queued = _queue_check(scope, pinned.group_id, regression.PINNED)
            st.toast("Pinned; the group's regression check is queued" if queued else "Pinned")
            st.session_state.pop(player_key, None)
            st.rerun()
    playing = st.session_state.get(player_key)
    if playing and playing[0] in titles:
        _player(owner_id, playing[0], playing[1])


# ------------------------------------------------------------------ the "regressions" view of the queue


@st.cache_data(ttl=300, show_spinner=False)
def _cited_now(scope: Scope, question_id: int, run_at) -> str:
    """What retrieval cites for a missed question (cached per run: it only changes with one)."""
    try:
        cited = regression.cited_instead(database(), settings(), scope, question_id)
    except AskVideoError:
        return ""
    return "; ".join(f"{c['title']} @ {format_timestamp(c['start'])}" for c in cited) or "nothing"


def still_missed(scope: Scope, group_id: int | None) -> None:
    """The pinned questions the latest check of their group missed, with what retrieval cites instead."""
    with database().session() as session:
        missed = regression.still_missed(session, scope, group_id)
    if not missed:
        st.caption("No pinned question is missed by retrieval in its group's latest check.")
        return
    st.caption(f"{plural(len(missed), 'pinned question')} that retrieval still misses (latest check of each "
               f"group): the moment a reviewer pinned, and the first {regression.SEEK_K} moments retrieval "
               "cites instead.")
    with st.spinner("Asking retrieval…"):
        rows = [{"group": m.group, "question": m.question,
                 "pinned": f"{m.video_title} @ {format_timestamp(m.start)}–{format_timestamp(m.end)}",
                 "cited": _cited_now(scope, m.question_id, m.run_at),
                 "exchange": m.chat_log_id, "checked": m.run_at} for m in missed]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
        "group": "Group", "question": st.column_config.TextColumn("Question", width="medium"),
        "pinned": "Pinned moment", "cited": st.column_config.TextColumn("Cited instead", width="large"),
        "exchange": st.column_config.NumberColumn("Exchange #", format="%d"),
        "checked": st.column_config.DatetimeColumn("Checked", format="YYYY-MM-DD HH:mm")})


# ------------------------------------------------------------------ each group's regression score


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def regression_section(scope: Scope, group_id: int | None) -> None:
    """Per group: seek@5 on its pinned questions, when last checked, its history, Run again, export."""
    st.subheader("Regression questions")
    st.caption(f"Moments reviewers pinned, checked against the group's retriever as the chat uses it: found "
               f"when one of its first {regression.SEEK_K} citations plays the moment (seek@{regression.SEEK_K}, "
               "as in the benchmark). Checks run in the background, and again after re-indexing or a model change.")
    with database().session() as session:
        scores = regression.overview(session, scope, group_id)
    if not scores:
        st.caption("No pinned questions yet. Open a bad answer above and pin the moment that answers it.")
        return
    table = pd.DataFrame([{
        "group": s.group, "questions": s.questions,
        "seek": s.latest.seek_at_5 if s.latest else None,
        "found": f"{s.latest.found}/{s.latest.questions}" if s.latest else "",
        "ran_at": s.latest.ran_at if s.latest else None, "reason": s.latest.reason if s.latest else "",
        "status": "queued" if s.busy else ("never checked" if not s.latest else
                                           "failed" if s.latest.error else "done")} for s in scores])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "group": "Group", "questions": "Pinned", "found": "Found",
        "seek": st.column_config.NumberColumn(f"seek@{regression.SEEK_K}", format="percent"),
        "ran_at": st.column_config.DatetimeColumn("Last checked", format="YYYY-MM-DD HH:mm"),
        "reason": "Why", "status": "Status"})
    by_id = {s.group_id: s for s in scores}
    chosen = scores[0].group_id if len(scores) == 1 else st.selectbox(
        "Group", list(by_id), format_func=lambda g: by_id[g].group, key="regression-group")
    _group_detail(scope, by_id[chosen])


def _group_detail(scope: Scope, score: regression.GroupScore) -> None:
    group_id = score.group_id

    @st.fragment(run_every=REFRESH_SECONDS if score.busy else None)
    def progress() -> None:
        with database().session() as session:
            now = regression.overview(session, scope, group_id)
        busy = bool(now) and now[0].busy
        if score.busy and not busy:
            st.rerun()  # the check finished: show its result
        if busy:
            st.info("A check of this group is queued or running…", icon=":material/hourglass_top:")

    with database().session() as session:
        runs = regression.history(session, scope, group_id)
    latest, previous = (runs[-1] if runs else None), (runs[-2] if len(runs) > 1 else None)
    figure, when, run_col, export_col = st.columns([1, 2, 1, 1], vertical_alignment="center")
    delta = None
    if latest and previous and latest.seek_at_5 is not None and previous.seek_at_5 is not None:
        delta = f"{latest.seek_at_5 - previous.seek_at_5:+.0%}"
    figure.metric(f"Regression seek@{regression.SEEK_K}", _percent(latest.seek_at_5 if latest else None), delta=delta,
                  help=f"{score.group}: pinned moments found in the first {regression.SEEK_K} citations")
    if latest and latest.error:
        when.caption(f"The last check ({latest.ran_at:%Y-%m-%d %H:%M}, {md(latest.reason)}) could not run: "
                     f"{md(latest.error)}")
    else:
        when.caption(f"Last checked {latest.ran_at:%Y-%m-%d %H:%M} ({md(latest.reason)}): {latest.found} of "
                     f"{plural(latest.questions, 'question')} found" if latest else "Not checked yet.")
    if run_col.button("Run again", key=f"regression-run-{group_id}", icon=":material/replay:"):
        if _queue_check(scope, group_id, regression.MANUAL):
            st.toast("Check queued")
            st.rerun()
    export_col.download_button(
        "Export questions", lambda: _export(scope, group_id), f"regression-questions-{group_id}.zip",
        "application/zip", key=f"regression-export-{group_id}", icon=":material/download:",
        help="questions.jsonl, videos.jsonl and captions/ for: python -m bench.quality --eval-dir <folder> "
             "--questions <folder>/questions.jsonl")
    progress()
    if len(runs) > 1:
        history = pd.DataFrame([{"ran_at": r.ran_at, "seek": r.seek_at_5, "found": r.found, "questions": r.questions,
                                 "reason": r.reason} for r in runs])
        st.altair_chart(alt.Chart(history).mark_line(point=True).encode(
            x=alt.X("ran_at:T", title=None),
            y=alt.Y("seek:Q", title=f"seek@{regression.SEEK_K}", axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1])),
            tooltip=[alt.Tooltip("ran_at:T", title="Checked"), alt.Tooltip("seek:Q", format=".0%"), "found:Q",
                     "questions:Q", "reason:N"]), width="stretch")
    with st.expander(f"Pinned questions ({score.questions})"):
        with database().session() as session:
            pinned = review.pinned_questions(session, scope, group_id)
        missed = set(latest.missed) if latest else set()
        for q in pinned:
            text, remove = st.columns([5, 1], vertical_alignment="center")
            mark = " · missed" if q.id in missed else ""
            text.markdown(f"“{md(q.question)}” → {_moment(q.video_title, q.start, q.end)}{mark}")
            if remove.button("Remove", key=f"regression-remove-{q.id}"):
                apply(review.unpin, scope, q.id, success="Pinned question removed")


def _export(scope: Scope, group_id: int) -> bytes:
    with database().session() as session:
        return regression.export_zip(session, scope, group_id)
