"""Add videos: upload files (with optional captions) or paste links (videos and playlists)."""

import streamlit as st

from core import ingest
from core.errors import AskVideoError
from core.storage import CAPTION_EXTENSIONS, VIDEO_EXTENSIONS
from ui.session import database, settings
from ui.widgets import md

account = st.session_state["account"]
st.title("Add videos")
language = ingest.language_from_locale(st.context.locale, settings())


def report(results: list[ingest.Submission]) -> None:
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
    uploads = st.file_uploader(
        "Video or audio files",
        type=sorted(e.lstrip(".") for e in VIDEO_EXTENSIONS),
        accept_multiple_files=True,
        help=f"Up to {settings().max_upload_mb} MB each. Captions (.srt or .vtt) are optional: "
        "without them the speech is transcribed.",
    )
    details = []
    for n, upload in enumerate(uploads or []):
        with st.expander(f"{upload.name} · {upload.size / 2**20:.1f} MB", expanded=len(uploads) <= 3):
            title = st.text_input("Title", value=upload.name.rsplit(".", 1)[0], key=f"title-{n}-{upload.file_id}")
            description = st.text_area("Description", key=f"desc-{n}-{upload.file_id}", height=80)
            captions = st.file_uploader(
                "Captions (optional)", type=sorted(e.lstrip(".") for e in CAPTION_EXTENSIONS),
                key=f"captions-{n}-{upload.file_id}",
            )
            details.append((upload, title, description, captions))
    if st.button("Upload", type="primary", disabled=not uploads, key="upload"):
        items = [
            ingest.UploadItem(
                filename=upload.name, stream=upload, title=title, description=description,
                captions_name=captions.name if captions else None,
                captions_data=captions.getvalue() if captions else None,
            )
            for upload, title, description, captions in details
        ]
        try:
            with st.spinner("Storing files…"):
                results = ingest.submit_uploads(database(), settings(), account.id, items, language=language)
        except AskVideoError as error:
            st.error(str(error))
        else:
            report(results)

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
        submitted = st.form_submit_button("Add", type="primary")
    if submitted:
        lines = [line.strip() for line in urls.splitlines() if line.strip()]
        if not lines:
            st.warning("Paste at least one link.")
        for url in lines:
            try:
                with st.spinner(f"Reading {url[:80]}…"):
                    added = ingest.submit_link(database(), settings(), account.id, url, make_group=make_group,
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
