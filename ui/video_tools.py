"""Panels around a video's player: chapters, summary, clips, comments — and the post maker that
the Groups and Ask pages share. All text from people or transcripts goes through `md()`."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core import chapters, clips, comments, summaries
from core import content_templates as ct
from core.errors import AskVideoError
from core.states import ACTIVE, Status, SummaryMethod
from core.transcripts import format_timestamp, parse_timestamp
from ui.media import clip_download_link, play_clip
from ui.session import database, settings
from ui.widgets import answer_markdown, apply, confirmed, md, moment, show_error, status_badge

CLIP_REFRESH_SECONDS = 2


def seek(seek_key: str, at: float) -> None:
    st.session_state[seek_key] = moment(st.session_state.get(seek_key), at)
    st.rerun()


def _seconds(label: str, text: str) -> float | None:
    try:
        return parse_timestamp(text)
    except ValueError as error:
        st.error(f"{label}: {md(str(error))}")
        return None


# ----------------------------------------------------------------- chapters


def chapters_panel(video_id: int, owner_id: int, seek_key: str, found: list[chapters.ChapterView], *,
                   ready: bool, editable: bool = True) -> None:
    """The video's chapters to play from; with `editable` (an editor), the tools to change them."""
    if not found:
        st.caption("Chapters appear here once the video is ready." if not ready else "No chapters yet.")
    for chapter in found:
        row, tools = st.columns([6, 1], vertical_alignment="center")
        if row.button(f"{format_timestamp(chapter.start)}  {md(chapter.title)}", key=f"ch-{chapter.id}",
                      type="tertiary", help=f"Play from {format_timestamp(chapter.start)}"):
            seek(seek_key, chapter.start)
        if editable:
            with tools.popover("Edit", icon=":material/edit:", help="Edit, merge or delete this chapter"):
                _edit_chapter(owner_id, chapter)
    if not ready or not editable:
        return
    if found:
        st.caption("Machine-made chapters can be edited; your edits are kept when the video is processed again.")
    with st.expander("Add a chapter"):
        with st.form(f"add-chapter-{video_id}", clear_on_submit=True):
            title = st.text_input("Chapter title", max_chars=chapters.MAX_TITLE)
            start_col, end_col = st.columns(2)
            start = start_col.text_input("Starts at", placeholder="2:05")
            end = end_col.text_input("Ends at", placeholder="4:30")
            if st.form_submit_button("Add chapter"):
                begin, finish = _seconds("Starts at", start), _seconds("Ends at", end)
                if begin is not None and finish is not None:
                    apply(chapters.add_chapter, owner_id, video_id, title=title, start=begin, end=finish,
                         success="Chapter added.")
    regenerate, export = st.columns(2)
    with regenerate.popover("Regenerate", icon=":material/auto_awesome:", help="Make new chapters"):
        st.write("Replaces every chapter, your edits included, with new machine-made ones.")
        if st.button("Replace chapters", key=f"regen-chapters-{video_id}", type="primary"):
            with st.spinner("Finding the topics…"):
                try:
                    method = chapters.generate(database(), settings(), video_id, user_id=owner_id)
                except AskVideoError as error:
                    show_error(error)
                else:
                    st.toast("Chapters made by the AI model." if method == "model"
                             else "Chapters made from the topic changes in the transcript.")
                    st.rerun()
    if found:
        with export.popover("Export", icon=":material/ios_share:", help="Chapters as YouTube description text"):
            text = chapters.youtube_description(found)
            st.caption("Paste into a YouTube description to get chapters there.")
            st.code(text, language=None)
            st.download_button("Download .txt", text, file_name="chapters.txt", mime="text/plain",
                               key=f"dl-chapters-{video_id}")
    return found


def chapter_links(found: list[chapters.ChapterView], on_seek: Callable[[float], None], key: str) -> None:
    """Chapters as read-only links (the share page): a click plays from the chapter's start."""
    if not found:
        st.caption("No chapters.")
    for chapter in found:
        if st.button(f"{format_timestamp(chapter.start)}  {md(chapter.title)}", key=f"{key}-{chapter.id}",
                     type="tertiary"):
            on_seek(chapter.start)


def _edit_chapter(owner_id: int, chapter: chapters.ChapterView) -> None:
    with st.form(f"edit-chapter-{chapter.id}"):
        title = st.text_input("Chapter title", value=chapter.title, max_chars=chapters.MAX_TITLE)
        start_col, end_col = st.columns(2)
        start = start_col.text_input("Starts at", value=format_timestamp(chapter.start))
        end = end_col.text_input("Ends at", value=format_timestamp(chapter.end))
        if st.form_submit_button("Save chapter"):
            begin, finish = _seconds("Starts at", start), _seconds("Ends at", end)
            if begin is not None and finish is not None:
                apply(chapters.update_chapter, owner_id, chapter.id, title=title, start=begin, end=finish,
                     success="Chapter saved.")
    merge, remove = st.columns(2)
    if merge.button("Merge with next", key=f"merge-{chapter.id}"):
        apply(chapters.merge_with_next, owner_id, chapter.id, success="Chapters merged.")
    if remove.button("Delete", key=f"delete-chapter-{chapter.id}"):
        apply(chapters.delete_chapter, owner_id, chapter.id, success="Chapter deleted.")


# ----------------------------------------------------------------- summaries


def summary_panel(owner_id: int, view: summaries.SummaryView | None, *, video_id: int | None = None,
                  group_id: int | None = None, seek_key: str | None = None, on_cite: Callable | None = None,
                  editable: bool = True) -> None:
    """The cached summary (`view`) with its cited moments, and a button to make it, or remake it
    (an editor any time, anyone once it is out of date); clips of its moments for an editor."""
    key = f"summary-{video_id}-{group_id}"
    label = "Summarize again" if view else "Summarize"
    if (view is None or view.stale or editable) and st.button(label, key=key, icon=":material/summarize:"):
        with st.spinner("Summarizing…"):
            try:
                summaries.summarize(database(), settings(), owner_id, video_id=video_id, group_id=group_id,
                                    regenerate=view is not None)
            except AskVideoError as error:
                show_error(error)
                return
        st.rerun()
    if view is None:
        st.caption("No summary yet." + (" It is kept until the group's videos change." if group_id else ""))
        return
    if view.stale:
        st.warning("Made before the latest changes to " + ("this group." if group_id else "this video.")
                   + " Summarize again to bring it up to date.", icon=":material/update:")
    st.caption(("Written by the AI model" if view.method == SummaryMethod.MODEL else "Made offline")
               + f" · {view.created_at:%Y-%m-%d %H:%M}")
    st.markdown(answer_markdown(view.text))
    for citation in view.citations:
        cite, clip = st.columns([6, 1], vertical_alignment="center")
        if cite.button(f"[{citation.n}] {md(citation.title)} · {format_timestamp(citation.start)}",
                       key=f"{key}-cite-{citation.n}", icon=":material/play_circle:", type="tertiary"):
            if on_cite:
                on_cite(citation)
            elif seek_key:
                seek(seek_key, citation.start)
        if editable and clip.button("Clip", key=f"{key}-clip-{citation.n}", icon=":material/content_cut:",
                                    type="tertiary", help="Cut this moment into a clip"):
            request(owner_id, citation.video_id, citation.start, citation.end, citation.title, cited=True)


# ----------------------------------------------------------------- clips


def clips_panel(video_id: int, owner_id: int, found_chapters: list[chapters.ChapterView],
                found_clips: list[clips.ClipView], seek_key: str, *, ready: bool, cuttable: bool,
                duration_s: float | None, editable: bool = True) -> None:
    """The video's clips to play and download; with `editable` (an editor), making and deleting them."""
    if not ready:
        st.caption("Clips can be made once the video is ready.")
        return
    if editable and not cuttable:
        st.caption("This video plays from its web page and no copy is stored here, so it cannot be cut. "
                   "Upload the file to make clips.")
    elif editable:  # a viewer plays and downloads the clips there are
        position = st.session_state.get(seek_key, 0.0)
        with st.form(f"new-clip-{video_id}", clear_on_submit=True):
            st.write("**New clip**")
            title = st.text_input("Clip title (optional)", max_chars=200)
            start_col, end_col = st.columns(2)
            start = start_col.text_input("From", value=format_timestamp(position))
            end = end_col.text_input("To", value=format_timestamp(min(position + 30, duration_s or position + 30)))
            if st.form_submit_button("Make clip", icon=":material/content_cut:"):
                begin, finish = _seconds("From", start), _seconds("To", end)
                if begin is not None and finish is not None:
                    request(owner_id, video_id, begin, finish, title)
        if found_chapters:
            pick, go = st.columns([3, 1], vertical_alignment="bottom")
            chapter = pick.selectbox("Or clip a chapter", found_chapters, key=f"clip-chapter-{video_id}",
                                     format_func=lambda c: f"{format_timestamp(c.start)} {c.title}")
            if go.button("Clip chapter", key=f"clip-chapter-go-{video_id}"):
                request(owner_id, video_id, chapter.start, chapter.end, chapter.title)
    clip_list(owner_id, video_id, found_clips, editable=editable)


def request(owner_id: int, video_id: int, start: float, end: float, title: str | None = None, *,
            cited: bool = False) -> None:
    """Ask for a clip (of a cited moment: `cited`, which core lengthens to a watchable clip)."""
    make = clips.request_cited_clip if cited else clips.request_clip
    try:
        make(database(), settings(), owner_id, video_id, start=start, end=end, title=title)
    except AskVideoError as error:
        show_error(error)
    else:
        st.toast("Clip on its way: it appears under Clips when it is cut.")
        st.rerun()  # the page read its clips before this one existed: read them again, and follow its cut


def clip_list(owner_id: int, video_id: int, first: list[clips.ClipView], *, editable: bool = True) -> None:
    """The video's clips (`first`, read with the page), refreshing itself while some are cut."""
    busy = any(c.status in ACTIVE for c in first)
    unread = [first]  # the page's own run shows what it read; the fragment's reruns read again

    @st.fragment(run_every=CLIP_REFRESH_SECONDS if busy else None)
    def listing() -> None:
        if unread:
            found = unread.pop()
        else:
            with database().session() as session:
                found = clips.list_clips(session, settings(), owner_id, video_id=video_id)
        if busy and not any(c.status in ACTIVE for c in found):
            st.rerun()
        if not found:
            st.caption("No clips yet.")
        playing = st.session_state.get(f"clip-playing-{video_id}")
        for clip in found:
            with st.container(border=True):
                head, state = st.columns([4, 1], vertical_alignment="center")
                head.markdown(f"**{md(clip.title)}** · {clip.label}")
                with state:
                    status_badge(clip.status)
                if clip.status == Status.ERROR:
                    st.error(md(clip.error_message or "Cutting failed."))
                if clip.media_path is not None:
                    if playing == clip.id:
                        play_clip(clip.id)
                    play, download, remove = st.columns(3)
                    if play.button("Play", key=f"play-clip-{clip.id}", icon=":material/play_arrow:"):
                        st.session_state[f"clip-playing-{video_id}"] = clip.id
                        st.rerun()
                    clip_download_link(download, clip.id)
                else:
                    remove = st.columns(3)[2]
                if editable and confirmed(remove, "Delete", "The clip's file is deleted; you can cut it again later.",
                                          key=f"delete-clip-{clip.id}", confirm="Delete clip",
                                          icon=":material/delete:"):
                    clips.delete_clip(database(), settings(), owner_id, clip.id)
                    st.rerun()

    listing()


# ----------------------------------------------------------------- comments


def comments_panel(video_id: int, user_id: int, threads: list[comments.CommentView], on_seek: Callable[[float], None],
                   found_chapters: list[chapters.ChapterView], *, share_token: str | None = None) -> None:
    with st.form(f"new-comment-{video_id}", clear_on_submit=True):
        text = st.text_area("Comment", max_chars=comments.MAX_LENGTH, placeholder="Plain text; links are not clickable.")
        at_col, chapter_col = st.columns(2)
        at = at_col.text_input("At (optional)", placeholder="2:05")
        chapter = chapter_col.selectbox("Chapter (optional)", [None, *found_chapters],
                                        format_func=lambda c: "—" if c is None else f"{format_timestamp(c.start)} {c.title}")
        if st.form_submit_button("Post comment", icon=":material/send:"):
            at_s = _seconds("At", at) if at.strip() else None
            if at_s is not None or not at.strip():
                apply(comments.add_comment, user_id, video_id, text, at_s=at_s,
                     chapter_id=chapter.id if chapter else None, share_token=share_token, success="Comment posted.")
    if not threads:
        st.caption("No comments yet.")
    for view in threads:
        with st.container(border=True):
            _comment(view, video_id, user_id, on_seek, share_token)


def _comment(view: comments.CommentView, video_id: int, user_id: int, on_seek: Callable[[float], None],
             share_token: str | None) -> None:
    line = f"**{md(view.author)}** · {view.created_at:%Y-%m-%d %H:%M}" + (" · edited" if view.edited else "")
    head, anchor = st.columns([4, 2], vertical_alignment="center")
    head.markdown(line)
    if view.anchor and anchor.button(f"▶ {md(view.anchor)}", key=f"comment-at-{view.id}", type="tertiary",
                                     help="Play from this moment"):
        on_seek(view.at_s)
    if view.deleted:
        st.caption(view.text)
    else:
        st.markdown(md(view.text))
        reply, edit, remove = st.columns(3)
        with reply.popover("Reply", icon=":material/reply:"):
            with st.form(f"reply-{view.id}", clear_on_submit=True):
                text = st.text_area("Reply", max_chars=comments.MAX_LENGTH)
                if st.form_submit_button("Post reply"):
                    apply(comments.add_comment, user_id, video_id, text,
                         parent_id=view.id, share_token=share_token, success="Reply posted.")
        if view.mine:
            with edit.popover("Edit", icon=":material/edit:"):
                with st.form(f"edit-comment-{view.id}"):
                    text = st.text_area("Comment", value=view.text, max_chars=comments.MAX_LENGTH)
                    if st.form_submit_button("Save comment"):
                        apply(comments.edit_comment, user_id, view.id, text, share_token=share_token,
                              success="Comment saved.")
        if view.can_delete and confirmed(
                remove, "Delete", "The comment is deleted" + (" (its replies stay)." if view.replies else "."),
                key=f"delete-comment-{view.id}", confirm="Delete comment", icon=":material/delete:"):
            apply(comments.delete_comment, user_id, view.id, share_token=share_token, success="Comment deleted.")
    if view.replies:
        _, replies = st.columns([1, 15])
        with replies:
            count = len(view.replies)
            st.caption(f"{count} {'reply' if count == 1 else 'replies'}")
            for child in view.replies:
                _comment(child, video_id, user_id, on_seek, share_token)


# ----------------------------------------------------------------- posts from templates


def post_maker(key: str, owner_id: int, make_context: Callable[[], dict],
               types: list[ct.TemplateInfo] | None = None, *, workspace_id: int | None = None) -> None:
    """Pick a content type, fill its template from `make_context()`, show the text to copy or download.
    A page showing several (one per chat answer) passes the `types` it read once."""
    if types is None:
        with database().session() as session:
            types = ct.content_types(session, owner_id, workspace_id=workspace_id)
    pick, go = st.columns([3, 1], vertical_alignment="bottom")
    kind = pick.selectbox("Format", types, key=f"{key}-type", format_func=lambda t: t.label
                          + ("" if t.is_default else " (your template)"))
    if go.button("Create", key=f"{key}-go", icon=":material/edit_note:"):
        with st.spinner("Writing…"):
            try:
                context = make_context()
                with database().session() as session:
                    st.session_state[f"{key}-text"] = ct.generate(session, owner_id, kind.content_type, context,
                                                                  workspace_id=workspace_id)
            except AskVideoError as error:
                st.error(md(str(error)))
    text = st.session_state.get(f"{key}-text")
    if text:
        st.code(text, language=None, wrap_lines=True)
        st.download_button("Download .txt", text, file_name=f"{kind.content_type}.txt", mime="text/plain",
                           key=f"{key}-download")
    st.page_link("pages/templates.py", label="Edit templates", icon=":material/article:")
