"""Add videos: upload files (with optional captions) or paste links (videos and playlists)."""

import streamlit as st

from core import submission
from core.errors import AskVideoError
from core.storage import CAPTION_EXTENSIONS
from ui.session import database, settings
from ui.uploader import video_uploader
from ui.widgets import file_size, md, plural, show_error

account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
st.title("Add videos")
language = submission.language_from_locale(st.context.locale, settings())


def report(results: list[submission.Submission]) -> None:
    for result in results:
        if result.status == "queued":
            st.success(f"**{md(result.title)}** — queued. Follow its progress in the Library.")
        elif result.status == "duplicate":
            st.info(f"**{md(result.title)}** — {md(result.message)}")
            st.page_link("pages/library.py", label="Open the existing video", query_params={"video": result.video_id})
        else:
            st.error(f"**{md(result.title)}** — {md(result.message)}")


files_tab, links_tab = st.tabs(["Upload files", "Paste links"])

with files_tab:
    if done := st.session_state.pop("upload-results", None):
        report(done)
    # A new picker after each submission: the files it sent are added (or refused) by then.
    generation = st.session_state.setdefault("upload-generation", 0)
    received = video_uploader(key=f"uploader-{generation}", session_id=account.session_id)
    staged = [file for file in received if file.id]
    for file in received:
        if file.error:
            st.error(f"**{md(file.name)}** — {md(file.error)}")
    details = []
    for n, file in enumerate(staged):
        # Every file's fields open at once, however many (folded away, they were missed), side
        # by side so each file takes little height.
        with st.container(border=True):
            st.markdown(f"**{md(file.name)}** · {file_size(file.size)}")
            text_col, captions_col = st.columns([3, 2])
            title = text_col.text_input("Title", value=file.name.rsplit(".", 1)[0], key=f"title-{file.id}")
            description = text_col.text_area("Description", key=f"desc-{file.id}", height=68)
            captions = captions_col.file_uploader(
                "Captions (optional)", type=sorted(e.lstrip(".") for e in CAPTION_EXTENSIONS),
                key=f"captions-{file.id}", help="Without captions the speech is transcribed.",
            )
            if captions:
                captions_col.caption("These captions are the transcript: no speech-to-text needed.")
            screen = captions_col.checkbox(
                "Read text on screen", value=True, key=f"screen-{file.id}", disabled=not settings().screen_text,
                help="Slides, code and menus shown in the video become searchable and citable."
                if settings().screen_text else "Reading text on screen is turned off on this server.")
            details.append((file, title, description, captions, screen))
    if st.button(f"Add {plural(len(staged), 'video')}" if staged else "Add videos", type="primary",
                 disabled=not staged, key="upload"):
        items = [
            submission.UploadItem(
                filename=file.name, staged_id=file.id, title=title, description=description,
                captions_name=captions.name if captions else None,
                captions_data=captions.getvalue() if captions else None, read_screen_text=screen,
            )
            for file, title, description, captions, screen in details
        ]
        try:
            results = submission.submit_uploads(database(), settings(), account.id, items, language=language,
                                                workspace_id=workspace.id)
        except AskVideoError as error:
            show_error(error)
        else:
            st.session_state["upload-results"] = results
            st.session_state["upload-generation"] = generation + 1
            st.rerun()

with links_tab:
    with st.form("links"):
        urls = st.text_area(
            "Links, one per line",
            placeholder="https://www.youtube.com/watch?v=…\nhttps://www.youtube.com/playlist?list=…",
            help="YouTube videos and playlists, or any page with a video that yt-dlp can read.",
        )
        make_group = st.checkbox("Make a group from each playlist, in playlist order", value=True)
        whole_playlist = st.checkbox(
            "For a video playing inside a playlist (…watch?v=…&list=…), add the whole playlist", value=False,
            help="Off: such a link adds just that video, as YouTube's address bar shows it while a playlist plays.",
        )
        read_screen = st.checkbox(
            "Read text on screen", value=True, disabled=not settings().screen_text,
            help="For sites whose video file is kept here; YouTube videos play from YouTube, so their screen is not read.")
        submitted = st.form_submit_button("Add", type="primary")
    if submitted:
        lines = [line.strip() for line in urls.splitlines() if line.strip()]
        if not lines:
            st.warning("Paste at least one link.")
        for url in lines:
            try:
                with st.spinner(f"Reading {url[:80]}…"):
                    added = submission.submit_link(database(), settings(), account.id, url, make_group=make_group,
                                                   workspace_id=workspace.id, read_screen_text=read_screen,
                                                   language=language, whole_playlist=whole_playlist)
            except AskVideoError as error:
                st.error(f"{md(url)}: {md(str(error))}")
                continue
            if added.group_name:
                queued = sum(1 for r in added.submissions if r.status == "queued")
                again = len(added.submissions) - queued
                st.success(f"Playlist **{md(added.group_name)}**: {queued} videos queued"
                           + (f" ({again} you had already added are included)" if again else "")
                           + " and grouped in playlist order.")
            else:
                report(added.submissions)
            if added.unavailable:
                st.warning(f"{added.unavailable} playlist entries were skipped (private, deleted or unavailable).")
