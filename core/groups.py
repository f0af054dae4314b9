"""Ordered groups of a workspace's videos: the unit a chat questions and a share link opens.

Viewers see groups; editors and owners make, change and delete them (core/workspaces.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import workspaces
from core.errors import AskVideoError, GroupNotFound
from core.queue import defer_regression_after_commit
from core.text import clean, one_line
from db.models import RegressionQuestion, Video, VideoGroup, VideoGroupMember
from db.states import Role, Status

GROUP_CHANGED = "videos changed"  # a regression run's reason (core/regression.py names the others)


@dataclass(frozen=True)
class GroupSummary:
    id: int
    name: str
    description: str
    video_count: int
    shared: bool
    updated_at: datetime


@dataclass(frozen=True)
class Member:
    video_id: int
    title: str
    status: str
    duration_s: float | None
    order: int


@dataclass(frozen=True)
class GroupDetail:
    id: int
    name: str
    description: str
    share_token: str | None
    members: list[Member]
    updated_at: datetime
    workspace_id: int

    @property
    def ready_count(self) -> int:
        return sum(1 for m in self.members if m.status == Status.COMPLETED)


def owned_group(session: Session, user_id: int, group_id: int, *, lock: bool = False,
                needs: Role = Role.VIEWER) -> VideoGroup:
    """A group in one of the user's workspaces where their role is `needs` or above; GroupNotFound
    if it is in none of theirs."""
    if not isinstance(group_id, int) or isinstance(group_id, bool):
        raise GroupNotFound()
    query = select(VideoGroup).where(VideoGroup.id == group_id)
    group = session.scalars(query.with_for_update() if lock else query).first()
    if group is None:
        raise GroupNotFound()
    workspaces.access(session, user_id, group.workspace_id, needs=needs, missing=GroupNotFound())
    return group


def _clean(name: str, description: str) -> tuple[str, str]:
    name, description = one_line(name), clean(description)
    if not name:
        raise AskVideoError("A group needs a name.")
    if len(name) > 200:
        raise AskVideoError("Group names are at most 200 characters.")
    if len(description or "") > 5000:
        raise AskVideoError("Descriptions are at most 5,000 characters.")
    return name, (description or "").strip()


def create_group(session: Session, user_id: int, name: str, description: str = "", *,
                 workspace_id: int | None = None) -> int:
    workspace_id = workspaces.access(session, user_id, workspace_id, needs=Role.EDITOR).workspace_id
    name, description = _clean(name, description)
    group = VideoGroup(user_id=user_id, workspace_id=workspace_id, name=name, description=description)
    session.add(group)
    session.flush()
    return group.id


def update_group(session: Session, user_id: int, group_id: int, *, name: str, description: str) -> None:
    group = owned_group(session, user_id, group_id, needs=Role.EDITOR)
    group.name, group.description = _clean(name, description)
    group.updated_at = func.now()


def delete_group(session: Session, user_id: int, group_id: int) -> None:
    """Delete the group, its memberships and its chat logs; the videos stay in the Library."""
    session.delete(owned_group(session, user_id, group_id, needs=Role.EDITOR))


def list_groups(session: Session, user_id: int, *, workspace_id: int | None = None) -> list[GroupSummary]:
    workspace_id = workspaces.access(session, user_id, workspace_id).workspace_id
    counts = (
        select(VideoGroupMember.group_id, func.count().label("n"))
        .group_by(VideoGroupMember.group_id).subquery()
    )
    rows = session.execute(
        select(VideoGroup, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.group_id == VideoGroup.id)
        .where(VideoGroup.workspace_id == workspace_id)
        .order_by(VideoGroup.updated_at.desc(), VideoGroup.id.desc())
    ).all()
    return [GroupSummary(g.id, g.name, g.description, n, g.share_token is not None, g.updated_at) for g, n in rows]


def members(session: Session, group_id: int) -> list[Member]:
    rows = session.execute(
        select(Video.id, Video.title, Video.status, Video.duration_s, VideoGroupMember.order)
        .join(VideoGroupMember, VideoGroupMember.video_id == Video.id)
        .where(VideoGroupMember.group_id == group_id)
        .order_by(VideoGroupMember.order, VideoGroupMember.added_at, VideoGroupMember.id)
    ).all()
    return [Member(*row) for row in rows]


def group_detail(session: Session, user_id: int, group_id: int) -> GroupDetail:
    group = owned_group(session, user_id, group_id)
    return GroupDetail(group.id, group.name, group.description, group.share_token,
                       members(session, group.id), group.updated_at, group.workspace_id)


def add_videos(session: Session, user_id: int, group_id: int, video_ids: list[int]) -> int:
    """Append videos of the group's workspace to its end; ones already in it are left alone."""
    group = owned_group(session, user_id, group_id, lock=True, needs=Role.EDITOR)
    owned = set(session.scalars(select(Video.id).where(Video.workspace_id == group.workspace_id,
                                                       Video.id.in_(video_ids))))
    if len(owned) != len(set(video_ids)):
        raise AskVideoError("Only videos of the group's own workspace can be added to it.")
    present = set(session.scalars(select(VideoGroupMember.video_id).where(VideoGroupMember.group_id == group.id)))
    next_order = (session.scalar(select(func.max(VideoGroupMember.order))
                                 .where(VideoGroupMember.group_id == group.id)) or -1) + 1
    added = 0
    for video_id in dict.fromkeys(video_ids):
        if video_id in present:
            continue
        session.add(VideoGroupMember(group_id=group.id, video_id=video_id, order=next_order))
        next_order += 1
        added += 1
    group.updated_at = func.now()
    if added:
        _recheck_regressions(session, group)
    return added


def remove_video(session: Session, user_id: int, group_id: int, video_id: int) -> None:
    group = owned_group(session, user_id, group_id, lock=True, needs=Role.EDITOR)
    removed = session.execute(delete(VideoGroupMember).where(VideoGroupMember.group_id == group.id,
                                                             VideoGroupMember.video_id == video_id)).rowcount
    group.updated_at = func.now()
    if removed:
        _recheck_regressions(session, group)


def _recheck_regressions(session: Session, group: VideoGroup) -> None:
    """A video joining or leaving the group changes what retrieval can find there: check its pinned
    questions again once the change is saved."""
    if session.scalar(select(RegressionQuestion.id).where(RegressionQuestion.group_id == group.id).limit(1)):
        defer_regression_after_commit(session, [group.id], GROUP_CHANGED)


def move_video(session: Session, user_id: int, group_id: int, video_id: int, steps: int) -> None:
    """Move a video up (negative steps) or down the group's order; orders are renumbered 0..n-1."""
    group = owned_group(session, user_id, group_id, lock=True, needs=Role.EDITOR)
    rows = list(session.scalars(
        select(VideoGroupMember).where(VideoGroupMember.group_id == group.id)
        .order_by(VideoGroupMember.order, VideoGroupMember.added_at, VideoGroupMember.id)
    ))
    position = next((i for i, m in enumerate(rows) if m.video_id == video_id), None)
    if position is None:
        raise AskVideoError("That video is not in this group.")
    target = max(0, min(len(rows) - 1, position + steps))
    rows.insert(target, rows.pop(position))
    for order, member in enumerate(rows):
        member.order = order
    group.updated_at = func.now()

