"""Small rendering helpers shared by pages. User and transcript text is always escaped."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import streamlit as st

from core.errors import AskVideoError
from core.states import STATUS_BADGES, Badge
from core.transcripts import format_timestamp
from ui.session import database, settings

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<&$:=])")


def md(text: str | None) -> str:
    """Escape user or transcript text for st.markdown so it shows literally (no links, no HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text or "").replace("\n", "  \n")


def marked(pieces) -> str:
    """Text given as (piece, matched) pairs, escaped, with each matched piece highlighted."""
    return "".join(f":orange-background[**{md(piece)}**]" if matched and piece.strip() else md(piece)
                   for piece, matched in pieces)


_LIST_ITEM = re.compile(r"^(\s*)([-*]|\d{1,3}[.)])\s+(.*)$")


def show_error(message: object) -> None:
    """An error for the user, always escaped: messages quote file names, links and titles."""
    st.error(md(str(message)))


def answer_markdown(text: str | None) -> str:
    """An answer as markdown with only its list structure kept: every other character is escaped,
    so a transcript or model cannot inject links, images or HTML into the page."""
    lines = []
    for line in (text or "").split("\n"):
        item = _LIST_ITEM.match(line)
        if item:
            indent, marker, rest = item.groups()
            marker = "-" if marker in "-*" else marker[:-1] + "."
            lines.append(f"{indent}{marker} {md(rest)}")
        else:
            lines.append(md(line))
    return "\n".join(lines)


_MARK = "\ue000"  # a private-use character standing for a marker while the text is escaped
UNSUPPORTED_MARKER = "⚠"


def claims_markdown(text: str | None, claims: list[dict] | None) -> str:
    """An answer as `answer_markdown` shows it, each claim its source does not back followed by a
    subtle marker whose tooltip says so. The tooltip is our own words and a citation number; the
    answer's text stays escaped."""
    text = (text or "").replace(_MARK, "")
    tips, cursor = [], 0
    for claim in claims or []:
        at = text.find(claim.get("sentence") or "\0", cursor) if not claim.get("supported", True) else -1
        if at < 0:
            continue
        cursor = at + len(claim["sentence"])
        text = text[:cursor] + _MARK + text[cursor:]
        cursor += len(_MARK)
        source = claim.get("source")
        tips.append(f"Source [{int(source)}] does not clearly say this." if isinstance(source, int)
                    else "No source of this answer clearly says this.")
    shown = answer_markdown(text)
    for tip in tips:
        shown = shown.replace(_MARK, f' [{UNSUPPORTED_MARKER}](#unsupported-claim "{tip}")', 1)
    return shown


def confirmed(where, label: str, consequence: str, *, key: str, confirm: str | None = None,
              icon: str | None = None) -> bool:
    """A destructive action behind a popover: the first click only says what will happen; the
    popover's button acts."""
    with where.popover(label, icon=icon):
        st.caption(consequence)
        return st.button(confirm or label, type="primary", key=key)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def file_size(size: int) -> str:
    """"640 KB", "52.9 MB", "1.2 GB": binary units, as the upload picker shows them too."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{max(1, round(size / 1024))} KB"


def duration(seconds: float | None) -> str:
    return format_timestamp(seconds) if seconds else "–"


def status_badge(status: str) -> None:
    badge = STATUS_BADGES.get(status, Badge(status, "gray"))
    st.badge(badge.label, color=badge.colour)


def pager(key: str, page: int, pages: int, *, back: str = "← Previous", forward: str = "Next →",
          note: str = "") -> None:
    """Buttons to the page before and after `page` of `pages`, with where we are: a click stores
    the new page in st.session_state[key] and reruns."""
    before, where, after = st.columns([1, 2, 1])
    if before.button(back, disabled=page <= 1, key=f"{key}-back"):
        st.session_state[key] = page - 1
        st.rerun()
    where.caption(f"Page {page} of {pages}" + (f" · {note}" if note else ""))
    if after.button(forward, disabled=page >= pages, key=f"{key}-forward"):
        st.session_state[key] = page + 1
        st.rerun()


def moment(playing: float | None, wanted: float) -> float:
    """The second to give the player for a click on `wanted`. The player seeks only when its start
    second changes, so clicking the moment it already started from (to hear it again) would do
    nothing: that click starts one second earlier instead."""
    wanted = float(int(wanted))
    if playing is None or int(playing) != int(wanted):
        return wanted
    return wanted - 1 if wanted >= 1 else wanted + 1


def app_url() -> str:
    """Where browsers reach this app: ASKVIDEO_PUBLIC_URL, else the address this browser is using."""
    base = settings().public_url
    if not base:
        parsed = urlparse(st.context.url or "")
        prefix = (st.get_option("server.baseUrlPath") or "").strip("/")
        origin = f"{parsed.scheme}://{parsed.netloc}" if parsed.netloc else "http://localhost:8501"
        base = f"{origin}/{prefix}".rstrip("/")
    return base


def share_url(token: str) -> str:
    """The link to give out for a group's share token."""
    return f"{app_url()}/?share={token}"


def apply(action, *args, success: str | None = None, **kwargs) -> bool:
    """Run one change (`action(session, *args)`) in its own transaction: show the user's error and
    return False, or toast `success` and rerun the page to show the result."""
    try:
        with database().session() as session:
            action(session, *args, **kwargs)
    except AskVideoError as error:
        show_error(error)
        return False
    if success:
        st.toast(success)
    st.rerun()
    return True
