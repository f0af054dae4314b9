"""Stored media on a page: the player, poster frames and clip downloads, all through our own
/files route (web/media.py) under this browser's right to watch, never a URL that outlives it.

`streamlit_app.py` sets the right for a signed-in browser (its session); the share page sets the
share link's. Without one nothing stored is shown.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import library, media_links, remote
from core.errors import AskVideoError
from ui.session import database, settings
from ui.widgets import app_url, md

_GRANT = "media-grant"


def watch_as(grant: str | None) -> None:
    """The right this browser's media links are made under, for this run."""
    st.session_state[_GRANT] = grant


def media_url(kind: str, item_id: int, *, download: bool = False) -> str | None:
    grant = st.session_state.get(_GRANT)
    if grant is None:
        return None
    return app_url() + media_links.signed_path(settings(), kind, item_id, grant, download=download)


def play(video_id: int, media_path: Path | None, web_url: str | None, start: float = 0.0, *,
         autoplay: bool = False) -> bool:
    """Play a stored video, else its web (YouTube) page, from `start` seconds. False when nothing
    is playable."""
    # Only our route or a web address: Streamlit reads any other string as a path on this server.
    source = media_url("video", video_id) if media_path else remote.web_address(web_url)
    if not source:
        return False
    st.video(source, start_time=int(start), autoplay=autoplay)
    return True


def play_titled(owner_id: int, video_id: int, start: float, title: str, label: str, *,
                in_group: int | None = None, autoplay: bool = True,
                gone: str = "That video is no longer available here.") -> None:
    """A moment chosen on a page (a citation, a search result): its title and time over the player,
    or `gone` if the viewer may no longer watch it (`in_group`: through a share link's group)."""
    try:
        with database().session() as session:
            source = library.playable(session, settings(), owner_id, video_id, in_group=in_group)
    except AskVideoError:
        st.warning(gone)
        return
    st.markdown(f"**{md(title)}** · {label}")
    if not play(video_id, source.media_path, source.web_url, start, autoplay=autoplay):
        st.info("No playable media is stored for this video.")


def play_clip(clip_id: int) -> None:
    if url := media_url("clip", clip_id):
        st.video(url)


def clip_download_link(where, clip_id: int) -> None:
    if url := media_url("clip", clip_id, download=True):
        where.link_button("Download", url, icon=":material/download:")


def poster(where, video_id: int, thumbnail_path: Path | None, thumbnail_url: str | None) -> None:
    """A video's poster frame: the stored one, else the site's (already checked to be http(s))."""
    source = media_url("thumbnail", video_id) if thumbnail_path else thumbnail_url
    if source:
        where.image(source, width="stretch")
