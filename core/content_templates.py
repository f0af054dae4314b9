"""Content from videos through Jinja2 templates: a LinkedIn post, and any type a user adds.

A default template per type ships in `core/content_templates/`; a user's own template for a type
wins over it. Templates are people's text, so they are validated (syntax, and only the named
variables below) and rendered in Jinja2's immutable sandbox, with limits on loops and on repeated
strings so a template cannot reach Python internals or change data. Both happen only in a child
process with CPU, memory and recursion caps, so it cannot eat the machine or crash the app either
(core/template_sandbox.py); this module never parses template text itself.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core import keyphrases, remote, summaries, template_sandbox
from core.answers import EXTRACTIVE_INTRO
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError
from core.groups import members, owned_group
from core.text import clean
from core.transcripts import format_timestamp
from db.models import ChatLog, ContentTemplate, Video
from db.states import AnswerMode

DEFAULTS_DIR = Path(__file__).resolve().parent / "content_templates"
MAX_TEMPLATE_CHARS = template_sandbox.MAX_TEMPLATE_CHARS
VARIABLES = {
    "topic": "the group's name, or the question asked",
    "summary": "the summary (or the answer) as prose, without citation numbers",
    "key_points": "list of the main points, each a sentence",
    "hashtags": "list like ['#Baking', '#SourdoughStarter']",
    "sources": "list of cited moments: source.title, source.at (\"02:05\"), source.start_s, source.link",
    "group_name": "the group's name",
    "question": "the question (empty for a group)",
    "answer": "the answer with citation numbers removed (empty for a group)",
    "video_titles": "list of the group's video titles, in order",
    "today": "today's date, e.g. 2026-11-23",
}
# What every variable looks like, for previewing a template before any group or answer is at hand.
SAMPLE_CONTEXT = {
    "topic": "Kitchen safety", "summary": "Keep knives sharp and know where the extinguisher hangs.",
    "key_points": ["Cut away from your body", "The extinguisher is in the hallway"],
    "hashtags": ["#KitchenSafety", "#Training"], "group_name": "Kitchen safety", "question": "", "answer": "",
    "sources": [{"title": "Kitchen safety training", "at": "00:10", "start_s": 10.0, "link": ""}],
    "video_titles": ["Kitchen safety training"], "today": "2026-11-23",
}
LABELS = {"linkedin_post": "LinkedIn post"}  # shipped types whose names need more than capitalising
_TYPE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_CITATION = re.compile(r"\s*\[\d{1,3}\]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+(.*)$")


class ContentTemplateError(AskVideoError):
    pass


@dataclass(frozen=True)
class TemplateInfo:
    content_type: str
    body: str
    is_default: bool  # the shipped template (the user has none of their own for this type)
    has_default: bool  # a shipped template exists to fall back to

    @property
    def label(self) -> str:
        return LABELS.get(self.content_type) or self.content_type.replace("_", " ").replace("-", " ").capitalize()


# ----------------------------------------------------------------- checking and rendering


def _tidy(body: str) -> str:
    body = clean(body).strip()
    if not body:
        raise ContentTemplateError("The template is empty.")
    if len(body) > MAX_TEMPLATE_CHARS:
        raise ContentTemplateError(f"A template can be at most {MAX_TEMPLATE_CHARS:,} characters.")
    return body


def _refuse_if_failed(result: template_sandbox.Result) -> None:
    if result.error:
        raise ContentTemplateError(result.error)
    if result.unknown:
        raise ContentTemplateError(
            f"Unknown variable{'s' if len(result.unknown) > 1 else ''}: {', '.join(result.unknown)}. "
            f"Available: {', '.join(VARIABLES)}."
        )


def validate(body: str) -> str:
    """The template text, cleaned, if it parses and names only known variables; else a clear error.

    The text is parsed only in the sandbox's child process: a hostile template (thousands of
    nested brackets) can exhaust the parser's stack, and that must not happen in the app.
    """
    body = _tidy(body)
    _refuse_if_failed(template_sandbox.check(body, VARIABLES))
    return body


def preview(body: str) -> str:
    """A template rendered with sample values for every variable."""
    return render(body, SAMPLE_CONTEXT)


def render(body: str, context: dict) -> str:
    """Check and render a template with `context`, both in one sandboxed child process."""
    result = template_sandbox.render(_tidy(body), context, known=VARIABLES)
    _refuse_if_failed(result)
    return result.text or ""


# ----------------------------------------------------------------- stored templates


@functools.cache
def _defaults() -> dict[str, str]:
    """The shipped templates (files in the package), read once per process."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(DEFAULTS_DIR.glob("*.j2"))}


def content_types(session: Session, user_id: int) -> list[TemplateInfo]:
    """Every type the user can generate: the shipped ones and their own, theirs winning."""
    defaults = _defaults()
    own = dict(session.execute(select(ContentTemplate.content_type, ContentTemplate.body)
                               .where(ContentTemplate.user_id == user_id)).all())
    names = list(defaults) + sorted(set(own) - set(defaults))
    return [TemplateInfo(n, own.get(n, defaults.get(n, "")), n not in own, n in defaults) for n in names]


def template_for(session: Session, user_id: int, content_type: str) -> TemplateInfo:
    for info in content_types(session, user_id):
        if info.content_type == content_type:
            return info
    raise ContentTemplateError(f"There is no template for “{content_type}”.")


def type_name(name: str) -> str:
    """"LinkedIn post" → "linkedin_post"; refused unless it makes a short plain name."""
    slug = re.sub(r"[^a-z0-9_-]+", "_", clean(name).strip().lower()).strip("_-")
    if not _TYPE_NAME.match(slug):
        raise ContentTemplateError("Name the content type with letters or digits (at most 50), e.g. “Team newsletter”.")
    return slug


def save_template(session: Session, user_id: int, content_type: str, body: str) -> None:
    """Store the user's template for a type (new or replacing theirs) once it validates."""
    content_type, body = type_name(content_type), validate(body)
    session.execute(insert(ContentTemplate).values(user_id=user_id, content_type=content_type, body=body)
                    .on_conflict_do_update(constraint="uq_content_templates_user_type",
                                           set_={"body": body, "updated_at": func.now()}))


def delete_template(session: Session, user_id: int, content_type: str) -> None:
    """Remove the user's own template; a shipped type falls back to its default."""
    session.execute(delete(ContentTemplate).where(ContentTemplate.user_id == user_id,
                                                  ContentTemplate.content_type == content_type))


# ----------------------------------------------------------------- what templates are filled with


def _prose_and_points(text: str) -> tuple[str, list[str]]:
    """Split a summary or answer into prose and list items, dropping citation numbers."""
    prose, points = [], []
    for line in _CITATION.sub("", text).splitlines():
        line = line.strip()
        if not line or line == summaries.EXTRACTIVE_NOTE:
            continue  # how the text was made is for the app's page, not for a post
        item = _BULLET.match(line)
        if item:
            points.append(item.group(1).strip().strip("“”\""))
        else:
            prose.append(line)
    return "\n".join(prose), points


def _source(video_id: int, title: str, start: float, youtube_ids: dict[int, str]) -> dict:
    link = f"https://youtu.be/{youtube_ids[video_id]}?t={int(start)}" if video_id in youtube_ids else ""
    return {"title": title, "at": format_timestamp(start), "start_s": round(start, 1), "link": link}


def _youtube_ids(session: Session, video_ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Video.id, Video.external_id, Video.extractor).where(Video.id.in_(video_ids))).all()
    return {i: ext for i, ext, extractor in rows if ext and remote.is_youtube_extractor(extractor)}


def context_for_group(db: Database, settings: Settings, owner_id: int, group_id: int) -> dict:
    """Variables for a post about a group: its (cached or new) summary, key points and moments."""
    with db.session() as session:
        group = owned_group(session, owner_id, group_id)
        name, titles = group.name, [m.title for m in members(session, group_id)]
    summary = summaries.summarize(db, settings, owner_id, group_id=group_id)
    prose, points = _prose_and_points(summary.text)
    with db.session() as session:
        youtube = _youtube_ids(session, [c.video_id for c in summary.citations])
    text_for_tags = " ".join([prose, *points])
    return {
        "topic": name, "summary": prose, "key_points": points,
        "hashtags": keyphrases.hashtags(text_for_tags), "group_name": name, "question": "", "answer": "",
        "sources": [_source(c.video_id, c.title, c.start, youtube) for c in summary.citations],
        "video_titles": titles, "today": date.today().isoformat(),
    }


def context_for_answer(session: Session, owner_id: int, chat_log_id: int) -> dict:
    """Variables for a post from one chat answer in the owner's groups."""
    log = session.scalars(select(ChatLog).where(ChatLog.id == chat_log_id, ChatLog.user_id == owner_id)).first()
    if log is None:
        raise ContentTemplateError("That answer does not exist or is not yours.")
    if log.mode == AnswerMode.NOTHING or not log.related_videos:
        raise ContentTemplateError("This answer found nothing in the videos, so there is nothing to post about.")
    group = owned_group(session, owner_id, log.group_id)
    # How an offline answer was made is for the app's page, not for a post.
    text = log.answer.removeprefix(EXTRACTIVE_INTRO) if log.mode == AnswerMode.EXTRACTIVE else log.answer
    prose, points = _prose_and_points(text)
    cited = log.related_videos
    youtube = _youtube_ids(session, [c["video_id"] for c in cited])
    answer = _CITATION.sub("", text).strip()
    return {
        "topic": log.question, "summary": prose, "key_points": points,
        "hashtags": keyphrases.hashtags(" ".join([log.question, *points, prose])), "group_name": group.name,
        "question": log.question, "answer": answer,
        "sources": [_source(c["video_id"], c["title"], float(c["start"]), youtube) for c in cited],
        "video_titles": [m.title for m in members(session, group.id)], "today": date.today().isoformat(),
    }


def generate(session: Session, user_id: int, content_type: str, context: dict) -> str:
    """Render the user's template for the type (theirs, else the default) with `context`."""
    return render(template_for(session, user_id, content_type).body, context)
