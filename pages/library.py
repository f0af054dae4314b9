"""The Library: a user's videos, newest first, with live progress; one video's player and transcript."""

import streamlit as st

from core import library, moment_search, submission, watching
from core.errors import AskVideoError, VideoNotFound
from core.states import STATUS_BADGES, Role, Status
from core.transcripts import format_timestamp
from ui import video_tools
from ui.media import play, play_titled, poster
from ui.session import database, settings
from ui.widgets import confirmed, duration, marked, md, moment, pager, plural, show_error, status_badge

account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
REFRESH_SECONDS = 2
SEGMENTS_PER_PAGE = 100
PLAYING = "lib-moment"  # (video id, second, title, time label) of the moment a search result plays


def open_video(video_id: int | None) -> None:
    if video_id is None:
        st.query_params.pop("video", None)
    else:
        st.query_params["video"] = str(video_id)


def progress_line(item: library.VideoSummary) -> None:
    if item.status == Status.PROCESSING:
        left = f" · about {plural(item.minutes_left, 'minute')} left" if item.minutes_left else ""
        st.progress(item.progress / 100, text=f"{item.current_step or 'working'} · {item.progress}%{left}")
    elif item.status == Status.PENDING:
        st.caption("Waiting for a worker…")
    elif item.status == Status.ERROR:
        st.error(md(item.error_message or "Processing failed."), icon=":material/error:")


# ------------------------------------------------------------------ one video


def transcript(detail: library.VideoDetail, seek_key: str) -> None:
    video_id = detail.summary.id
    if detail.screen_text_note and detail.summary.status == Status.COMPLETED:
        st.caption(md(detail.screen_text_note))
    if not detail.lines:
        st.caption("The transcript appears here once processing is done.")
        return
    query = st.text_input("Find in transcript", key=f"find-{video_id}", placeholder="word or phrase")
    shown = [line for line in detail.lines if query.lower() in line.text.lower()] if query else detail.lines
    pages = max(1, -(-len(shown) // SEGMENTS_PER_PAGE))
    page = st.number_input("Page", 1, pages, 1, key=f"tpage-{video_id}") if pages > 1 else 1
    with st.container(height=460):
        start = (page - 1) * SEGMENTS_PER_PAGE
        for n, line in enumerate(shown[start:start + SEGMENTS_PER_PAGE], start):
            stamp, text = st.columns([1, 5], vertical_alignment="top")
            if stamp.button(format_timestamp(line.start), key=f"ts-{video_id}-{n}",
                            help="Play from here", type="tertiary"):
                video_tools.seek(seek_key, line.start)
            if line.on_screen:  # a slide's text, set apart from what is said
                text.markdown(f":material/slideshow: **On screen**  \n{md(line.text)}")
            else:
                text.markdown(md(line.text))
        if not shown:
            st.caption("No line matches.")


def show_video(video_id: int) -> None:
    try:
        with database().session() as session:
            page = watching.video_page(session, settings(), account.id, video_id)
    except AskVideoError as error:
        show_error(error)
        if st.button("Back to the library"):
            open_video(None)
            st.rerun()
        return
    detail, item = page.detail, page.detail.summary
    if st.button("← Library", key="back"):
        open_video(None)
        st.rerun()
    st.header(md(item.title))
    meta = [item.source, duration(item.duration_s)]
    if item.transcript_source:
        meta.append(item.transcript_source)
    if detail.channel:
        meta.append(md(detail.channel))
    if detail.published_on:
        meta.append(detail.published_on.isoformat())
    status_badge(item.status)
    st.caption(" · ".join(meta))
    if item.status == Status.COMPLETED:
        st.page_link("pages/chat.py", label="Ask this video", icon=":material/chat:",
                     query_params={"video": str(video_id)}, help="A conversation about this video alone")

    unread = [item]  # the page's own run shows what it read; the fragment's reruns read again

    @st.fragment(run_every=REFRESH_SECONDS if item.is_active else None)
    def live_status() -> None:
        if unread:
            fresh = unread.pop()
        else:
            with database().session() as session:
                fresh = library.video_summary(session, settings(), account.id, video_id)
        if item.is_active and not fresh.is_active:
            st.rerun()  # finished: show the transcript
        progress_line(fresh)

    live_status()

    seek_key = f"seek-{video_id}"
    ready = item.status == Status.COMPLETED
    edits = workspace.can(Role.EDITOR)
    player, side = st.columns([3, 2])
    with side:
        # Keyed tabs remember the open one across reruns (a saved edit does not jump back to the first).
        chapters_tab, transcript_tab = st.tabs(["Chapters", "Transcript"], key=f"side-tabs-{video_id}",
                                               on_change="rerun")
        with chapters_tab:
            video_tools.chapters_panel(video_id, account.id, seek_key, page.chapters, ready=ready, editable=edits)
        with transcript_tab:
            transcript(detail, seek_key)
    with player:
        if not play(video_id, detail.media_path, detail.web_url, st.session_state.get(seek_key, 0.0),
                    autoplay=seek_key in st.session_state):
            st.info("No playable media is stored for this video.")
        if detail.description:
            st.markdown(md(detail.description))
        summary_tab, clips_tab, comments_tab = st.tabs(["Summary", "Clips", "Comments"],
                                                       key=f"tool-tabs-{video_id}", on_change="rerun")
        with summary_tab:
            if ready:
                video_tools.summary_panel(account.id, page.summary, video_id=video_id, seek_key=seek_key,
                                          editable=edits)
            else:
                st.caption("A summary can be made once the video is ready.")
        with clips_tab:
            video_tools.clips_panel(video_id, account.id, page.chapters, page.clips, seek_key, ready=ready,
                                    cuttable=detail.media_path is not None, duration_s=item.duration_s,
                                    editable=edits)
        with comments_tab:
            if page.comment_count:
                st.caption(plural(page.comment_count, "comment"))
            video_tools.comments_panel(video_id, account.id, page.comments, lambda at: video_tools.seek(seek_key, at),
                                       page.chapters)

    if detail.groups:
        st.caption("In groups: " + ", ".join(md(g) for g in detail.groups))
    if detail.original_filename:
        st.caption(f"Uploaded file: {md(detail.original_filename)}")
    if detail.source_url:
        st.caption(f"Source: {md(detail.source_url)}")
    if not edits:  # a viewer watches; editing, processing again and deleting are an editor's
        return
    with st.expander("Edit details"):
        with st.form(f"edit-{video_id}"):
            title = st.text_input("Title", value=item.title, max_chars=500)
            description = st.text_area("Description", value=detail.description, max_chars=10000)
            if st.form_submit_button("Save"):
                try:
                    with database().session() as session:
                        library.update_video(session, account.id, video_id, title=title, description=description)
                except AskVideoError as error:
                    show_error(error)
                else:
                    st.toast("Saved.")
                    st.rerun()

    actions = st.columns(3)
    if item.status == Status.ERROR:
        again = actions[0].button("Retry", key="retry")
    else:
        again = item.status == Status.COMPLETED and confirmed(
            actions[0], "Process again", "The video is read and transcribed again; its transcript and "
            "generated chapters are replaced when that is done.", key="retry")
    if again:
        try:
            submission.retry(database(), account.id, video_id)
        except AskVideoError as error:
            show_error(error)
        else:
            st.rerun()
    if confirmed(actions[2], "Delete video", "The file, its transcript and its place in groups are deleted. "
                 "This cannot be undone.", key="confirm-delete", confirm="Delete for good", icon=":material/delete:"):
        try:
            library.delete_video(database(), settings(), account.id, video_id)
        except VideoNotFound:  # deleted meanwhile, in another tab
            st.toast("This video was already deleted.")
        else:
            st.toast("Video deleted.")
        open_video(None)
        st.rerun()


# ------------------------------------------------------------------ the list


def play_moment(found: moment_search.Moment) -> None:
    playing = st.session_state.get(PLAYING)
    start = moment(playing[1] if playing and playing[0] == found.video_id else None, found.start)
    st.session_state[PLAYING] = (found.video_id, start, found.title, format_timestamp(found.start))


def moment_player() -> None:
    """The search result being played, above the list, so a click plays where the user is looking."""
    if not (chosen := st.session_state.get(PLAYING)):
        return
    video_id, start, title, label = chosen
    play_titled(account.id, video_id, start, title, label, gone="That video is no longer in your library.")


def said_in_the_videos(moments: list[moment_search.Moment], *, wide: bool) -> None:
    """The moments that say the searched words; on the page's whole width, the player beside them."""
    st.subheader("Said in the videos")
    if not moments:
        st.caption("No video says these words.")
        return
    if wide:
        listed, player = st.columns([2, 3])
    else:
        player, listed = st.container(), st.container()
    with player:
        moment_player()
    with listed, st.container(height=520, border=False):
        for n, found in enumerate(moments):
            with st.container(border=True):
                where = " · on screen" if found.on_screen else ""
                if st.button(f"{md(found.title)} · {format_timestamp(found.start)}{where}", key=f"moment-{n}",
                             icon=":material/play_circle:", type="tertiary", help="Play from this moment"):
                    play_moment(found)
                    st.rerun()
                st.markdown(marked(found.pieces()))


def show_list() -> None:
    st.title("Library")
    search_col, status_col = st.columns([3, 1])
    def first_page() -> None:
        st.session_state["lib-page"] = 1

    def new_search() -> None:
        first_page()
        st.session_state.pop(PLAYING, None)

    search = search_col.text_input("Search", key="lib-search", placeholder="Words in a title, or said in a video",
                                   on_change=new_search)
    status_label = status_col.selectbox("Status", ["All", *(b.label for b in STATUS_BADGES.values())], key="lib-status",
                                        on_change=first_page)
    status = next((s for s, badge in STATUS_BADGES.items() if badge.label == status_label), None)
    page = st.session_state.get("lib-page", 1)

    with database().session() as session:
        first = library.list_videos(session, settings(), account.id, search=search, status=status, page=page,
                                    workspace_id=workspace.id)
        # What is said is searched in videos with a transcript, so not under another status's filter.
        said = search.strip() and status in (None, Status.COMPLETED)
        moments = moment_search.find_moments(session, account.id, search, workspace_id=workspace.id) if said else None

    if first.total == 0 and not moments:
        if search or status:
            st.info("No video matches.")
        else:
            st.info("No videos yet. Add files or links to get started.")
            st.page_link("pages/upload.py", label="Add videos", icon=":material/add:")
        return
    # Side by side when both have something; spoken moments alone take the page's width.
    if moments is None:
        titles_col, said_col = st.container(), None
    elif first.total:
        titles_col, said_col = st.columns([3, 2])
    else:
        st.caption("No title has these words.")
        titles_col, said_col = None, st.container()
    if said_col is not None:
        with said_col:
            said_in_the_videos(moments, wide=titles_col is None)

    @st.fragment(run_every=REFRESH_SECONDS if first.active else None)
    def listing() -> None:
        with database().session() as session:
            result = library.list_videos(session, settings(), account.id, search=search, status=status, page=page,
                                         workspace_id=workspace.id)
        if first.active and not result.active:
            st.rerun()  # everything finished: stop refreshing
        if moments is not None:
            st.subheader("Titles")
        if not result.total:
            st.caption("No title has these words.")
            return
        st.caption(plural(result.total, "video") + (f" · {result.active} in progress" if result.active else ""))
        for item in result.items:
            with st.container(border=True):
                thumb, body, state = st.columns([1, 4, 2], vertical_alignment="center")
                if item.thumbnail_path or item.thumbnail_url:
                    poster(thumb, item.id, item.thumbnail_path, item.thumbnail_url)
                else:
                    thumb.markdown(":material/movie:")
                if body.button(md(item.title), key=f"open-{item.id}", type="tertiary", help="Open"):
                    open_video(item.id)
                    st.rerun()
                body.caption(" · ".join(
                    x for x in [item.source, duration(item.duration_s), item.transcript_source,
                                item.uploaded_at.strftime("%Y-%m-%d %H:%M")] if x
                ))
                with state:
                    status_badge(item.status)
                    progress_line(item)
        if result.pages > 1:
            pager("lib-page", result.page, result.pages, back="← Newer", forward="Older →")

    if titles_col is not None:
        with titles_col:
            listing()


selected = st.query_params.get("video")
if selected and selected.isdigit():
    # A link to a moment (`&t=` seconds, as the API's search gives) opens the video playing from it.
    if (at := st.query_params.pop("t", None)) is not None and at.isdigit():
        st.session_state[f"seek-{selected}"] = float(at)
    show_video(int(selected))
else:
    show_list()
