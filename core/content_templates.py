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

from core import keyphrases, remote, summaries, template_sandbox, workspaces
from core.answers import EXTRACTIVE_INTRO
from core.config import Settings
from core.database import Database
from core.errors import AskVideoError
from core.groups import members, owned_group
from core.text import clean
from core.transcripts import format_timestamp
from db.models import ChatLog, ContentTemplate, Video
from db.states import AnswerMode, Role, VideoSource

DEFAULTS_DIR = Path(__file__).resolve().parent / "content_templates"
MAX_TEMPLATE_CHARS = template_sandbox.MAX_TEMPLATE_CHARS
VARIABLES = {
    "topic": "the group's name, or the question asked",
    "headline": "a title for the post: \"Kitchen safety: what we learned\", or the question as a headline",
    "summary": "the summary (or the answer) as prose, without citation numbers",
    "key_points": "list of the main points, each a sentence",
    "hashtags": "list like ['#Baking', '#SourdoughStarter']",
    "sources": "list of cited moments: source.title, source.at (\"02:05\"), source.start_s, source.link "
               "(the video's public page, at that second on YouTube; empty for an uploaded file)",
    "group_name": "the group's name",
    "question": "the question (empty for a group)",
    "answer": "the answer with citation numbers removed (empty for a group)",
    "video_titles": "list of the group's video titles, in order",
    "today": "today's date, e.g. 2026-11-23",
}
# What every variable looks like, for previewing a template before any group or answer is at hand.
SAMPLE_CONTEXT = {
    "topic": "Kitchen safety", "headline": "Kitchen safety: what we learned",
    "summary": "Keep knives sharp and know where the extinguisher hangs.",
    "key_points": ["Cut away from your body", "The extinguisher is in the hallway"],
    "hashtags": ["#KitchenSafety", "#Training"], "group_name": "Kitchen safety", "question": "", "answer": "",
    "sources": [{"title": "Kitchen safety training", "at": "00:10", "start_s": 10.0, "link": ""},
                {"title": "Fire drill", "at": "01:05", "start_s": 65.0, "link": "https://youtu.be/dQw4w9WgXcQ?t=65"}],
    "video_titles": ["Kitchen safety training"], "today": "2026-11-23",
}
LABELS = {"linkedin_post": "LinkedIn post"}  # shipped types whose names need more than capitalising
_TYPE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_CITATION = re.compile(r"\s*\[\d{1,3}\]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+(.*)$")
# Questions turned into headlines: "how can I prevent auto nesting?" → "How to prevent auto-nesting".
_ASKER = r"(?:i|we|you|one|someone|people|users?)"
_HEADLINES = [
    (re.compile(rf"^how\s+(?:do|can|could|should|would|might|may|shall)\s+{_ASKER}\s+(.+)$", re.I), "How to {}"),
    (re.compile(rf"^(?:how\s+to|is\s+there\s+a\s+way\s+to|(?:can|could)\s+{_ASKER})\s+(.+)$", re.I), "How to {}"),
    (re.compile(r"^where\s+(?:is|are)\s+(.+)$|^where's\s+(.+)$", re.I), "Where to find {}"),
    (re.compile(r"^what(?:\s+is|\s+are|'s)\s+((?:the|a|an|our|your|my|this|these)\s+.+)$", re.I), "{}"),
]
_FILLER = re.compile(r"^(?:(?:so|ok|okay|hey|hi|please|quick question)\b[\s,:]*)+", re.I)
_PLAIN_WORD = re.compile(r"^[^\W\d_][\w'’-]*$")
_YOUTU_BE = "https://youtu.be/"
_ASKER_WORDS = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "i'm": "you're"}


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


def content_types(session: Session, user_id: int, *, workspace_id: int | None = None) -> list[TemplateInfo]:
    """Every type the workspace (the user's personal one by default) can generate: the shipped
    ones and its own, its own winning."""
    workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
    defaults = _defaults()
    own = dict(session.execute(select(ContentTemplate.content_type, ContentTemplate.body)
                               .where(ContentTemplate.workspace_id == workspace_id)).all())
    names = list(defaults) + sorted(set(own) - set(defaults))
    return [TemplateInfo(n, own.get(n, defaults.get(n, "")), n not in own, n in defaults) for n in names]


def template_for(session: Session, user_id: int, content_type: str, *,
                 workspace_id: int | None = None) -> TemplateInfo:
    for info in content_types(session, user_id, workspace_id=workspace_id):
        if info.content_type == content_type:
            return info
    raise ContentTemplateError(f"There is no template for “{content_type}”.")


def type_name(name: str) -> str:
    """"LinkedIn post" → "linkedin_post"; refused unless it makes a short plain name."""
    slug = re.sub(r"[^a-z0-9_-]+", "_", clean(name).strip().lower()).strip("_-")
    if not _TYPE_NAME.match(slug):
        raise ContentTemplateError("Name the content type with letters or digits (at most 50), e.g. “Team newsletter”.")
    return slug


def save_template(session: Session, user_id: int, content_type: str, body: str, *,
                  workspace_id: int | None = None) -> None:
    """Store the workspace's template for a type (new or replacing its own) once it validates;
    editors and owners may."""
    workspace_id = workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR).workspace_id
    content_type, body = type_name(content_type), validate(body)
    session.execute(insert(ContentTemplate).values(workspace_id=workspace_id, content_type=content_type, body=body)
                    .on_conflict_do_update(constraint="uq_content_templates_workspace_type",
                                           set_={"body": body, "updated_at": func.now()}))


def delete_template(session: Session, user_id: int, content_type: str, *, workspace_id: int | None = None) -> None:
    """Remove the workspace's own template; a shipped type falls back to its default."""
    workspace_id = workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR).workspace_id
    session.execute(delete(ContentTemplate).where(ContentTemplate.workspace_id == workspace_id,
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


def headline(question: str, text: str = "") -> str:
    """A question as a post's headline, in sentence case and without the question mark:
    "how can i prevent auto nesting?" → "How to prevent auto-nesting". Words are spelled as
    `text` (the answer) writes them, so names keep their capitals and compounds their hyphens."""
    asked = _FILLER.sub("", " ".join(clean(question).split())).rstrip(" ?!.").strip()
    if not asked:
        return ""
    for pattern, shape in _HEADLINES:
        if found := pattern.match(asked):
            asked = shape.format(next(g for g in found.groups() if g))
            break
    words = asked.split()
    if len(words) >= 3 and sum(w[:1].isupper() for w in words) > 0.6 * len(words):
        words = [w.lower() for w in words]  # Typed In Title Case or CAPITALS: sentence case instead
    forms = keyphrases.written_forms(text)
    spelled: list[str] = []
    for word in words:
        key = keyphrases.spelling_key(word)
        if word.lower() in _ASKER_WORDS:
            spelled.append(_ASKER_WORDS[word.lower()])  # the post speaks to its reader
        elif not _PLAIN_WORD.match(word) or word.lower() in keyphrases.STOPWORDS:
            spelled.append(word)
        elif spelled and "-" in (joined := forms.get(keyphrases.spelling_key(spelled[-1]) + key, "")):
            spelled[-1] = joined  # "auto nesting", written "auto-nesting"
        else:
            spelled.append(forms[key] if forms.get(key, "").lower() == word.lower() else word)  # "Bitwarden"
    title = " ".join(spelled)
    return title[:1].upper() + title[1:]


def _source(video_id: int, title: str, start: float, pages: dict[int, str]) -> dict:
    page = pages.get(video_id, "")
    # YouTube starts at a second; other sites have no common way to, so their page is linked as is.
    link = f"{page}?t={int(start)}" if page.startswith(_YOUTU_BE) else page
    return {"title": title, "at": format_timestamp(start), "start_s": round(start, 1), "link": link}


def _watch_pages(session: Session, video_ids: list[int]) -> dict[int, str]:
    """The public page of each video added by link. An uploaded file has none: its media is
    served only to the signed-in and to share-link holders, so a post names its moment unlinked."""
    rows = session.execute(select(Video.id, Video.external_id, Video.extractor, Video.source_url)
                           .where(Video.id.in_(video_ids), Video.source == VideoSource.URL)).all()
    pages = {}
    for video_id, external_id, extractor, url in rows:
        if external_id and remote.is_youtube_extractor(extractor):
            pages[video_id] = _YOUTU_BE + external_id
        elif page := remote.web_address(url):
            pages[video_id] = page
    return pages


def context_for_group(db: Database, settings: Settings, owner_id: int, group_id: int) -> dict:
    """Variables for a post about a group: its (cached or new) summary, key points and moments."""
    with db.session() as session:
        group = owned_group(session, owner_id, group_id)
        name, titles = group.name, [m.title for m in members(session, group_id)]
    summary = summaries.summarize(db, settings, owner_id, group_id=group_id)
    prose, points = _prose_and_points(summary.text)
    with db.session() as session:
        pages = _watch_pages(session, [c.video_id for c in summary.citations])
    return {
        "topic": name, "headline": f"{name}: what we learned", "summary": prose, "key_points": points,
        "hashtags": keyphrases.hashtags("\n".join([prose, *points])), "group_name": name,
        "question": "", "answer": "",
        "sources": [_source(c.video_id, c.title, c.start, pages) for c in summary.citations],
        "video_titles": titles, "today": date.today().isoformat(),
    }


def context_for_answer(session: Session, owner_id: int, chat_log_id: int) -> dict:
    """Variables for a post from one chat answer: the user's own, or (an editor or owner) any in
    their workspace."""
    missing = ContentTemplateError("That answer does not exist or is not yours.")
    log = session.scalars(select(ChatLog).where(ChatLog.id == chat_log_id)).first() \
        if isinstance(chat_log_id, int) else None
    if log is None:
        raise missing
    member = workspaces.access(session, owner_id, log.workspace_id, missing=missing)
    if log.user_id != owner_id and not member.can(Role.EDITOR):
        raise missing
    if log.mode == AnswerMode.NOTHING or not log.related_videos:
        raise ContentTemplateError("This answer found nothing in the videos, so there is nothing to post about.")
    if log.group_id is not None:
        group = owned_group(session, owner_id, log.group_id)
        group_name, titles = group.name, [m.title for m in members(session, group.id)]
    else:  # asked of one video or of everything: the videos it cites
        group_name, titles = "", list(dict.fromkeys(c["title"] for c in log.related_videos))
    # How an offline answer was made is for the app's page, not for a post.
    text = log.answer.removeprefix(EXTRACTIVE_INTRO) if log.mode == AnswerMode.EXTRACTIVE else log.answer
    prose, points = _prose_and_points(text)
    cited = log.related_videos
    pages = _watch_pages(session, [c["video_id"] for c in cited])
    answer = _CITATION.sub("", text).strip()
    return {
        "topic": log.question, "headline": headline(log.question, answer), "summary": prose, "key_points": points,
        "hashtags": keyphrases.hashtags("\n".join([log.question, answer])), "group_name": group_name,
        "question": log.question, "answer": answer,
        "sources": [_source(c["video_id"], c["title"], float(c["start"]), pages) for c in cited],
        "video_titles": titles, "today": date.today().isoformat(),
    }


def generate(session: Session, user_id: int, content_type: str, context: dict, *,
             workspace_id: int | None = None) -> str:
    """Render the workspace's template for the type (its own, else the default) with `context`."""
    return render(template_for(session, user_id, content_type, workspace_id=workspace_id).body, context)
