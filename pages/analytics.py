"""Analytics: answer quality and usage — for the people who review what works and what does not."""

from datetime import date, timedelta

import altair as alt
import streamlit as st

from core import analytics, library
from core.analytics import Filters, Scope
from core.errors import AskVideoError
from core.states import Feedback
from core.transcripts import format_timestamp
from ui.media import play
from ui.review import exchange_panel, regression_section, still_missed
from ui.session import database, settings
from ui.widgets import claims_markdown, md, pager, show_error

account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
st.title("Analytics")
CACHE_SECONDS = 60


# Aggregates are cached per (scope, filters) for a minute: reviewers flip filters back and forth.
@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def cached(name: str, scope: Scope, filters: Filters, **kwargs):
    with database().session() as session:
        return getattr(analytics, name)(session, scope, filters, **kwargs)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


# ------------------------------------------------------------------ filters
toggle_col, refresh_col = st.columns([4, 1])
everyone = account.is_staff and toggle_col.toggle("All workspaces",
                                                  help="Staff only: every workspace's groups and videos")
if refresh_col.button("Refresh", icon=":material/refresh:", help=f"Figures are cached for {CACHE_SECONDS} s"):
    cached.clear()
try:
    with database().session() as session:
        scope = analytics.scope_for(session, account.id, all_users=everyone, workspace_id=workspace.id)
        group_options = analytics.group_options(session, scope)
except AskVideoError as error:
    show_error(error)
    st.stop()

when, group_col, origin_col, feedback_col = st.columns([2, 2, 1, 1])
today = date.today()
period = when.date_input("Dates", value=(today - timedelta(days=29), today), max_value=today + timedelta(days=1))
start, end = (period if isinstance(period, tuple) and len(period) == 2 else (None, None))
groups_by_id = dict(group_options)
group_id = group_col.selectbox("Group", [None, *groups_by_id], format_func=lambda g: "All groups" if g is None
                               else groups_by_id[g])
origin = origin_col.selectbox("Origin", analytics.ORIGINS,
                              format_func={"all": "All", "owner": "Owner", "shared": "Shared link"}.get)
feedback = feedback_col.selectbox("Feedback", analytics.FEEDBACKS, format_func={
    "all": "All", Feedback.GOOD: "Good", Feedback.BAD: "Bad", "none": "Not rated"}.get)
filters = Filters(start=start, end=end, group_id=group_id, origin=origin, feedback=feedback)

# ------------------------------------------------------------------ headline
head = cached("headline", scope, filters)
row1 = st.columns(4)
row1[0].metric("Questions asked", f"{head.questions:,}")
row1[1].metric("Answers rated", percent(head.rated_share), help="Of answers asked, the share someone rated")
row1[2].metric("Good rate", percent(head.good_rate), help="Of rated answers")
row1[3].metric("Bad rate", percent(head.bad_rate), help="Of rated answers")
row2 = st.columns(4)
row2[0].metric("Answers with no sources", f"{head.no_sources:,}")
row2[1].metric("Videos ingested", f"{head.videos_ingested:,}")
row2[2].metric("Hours of video", f"{head.hours_of_video:,.2f}")
row2[3].metric("Videos in error", f"{head.videos_in_error:,}")

if head.questions == 0 and head.videos_ingested == 0 and head.videos_in_error == 0:
    st.info("Nothing to show for these filters yet. Questions asked in groups and shared links appear here.")
    st.stop()

# ------------------------------------------------------------------ charts
FEEDBACK_COLORS = alt.Scale(domain=[Feedback.GOOD, Feedback.BAD, "none"], range=["#16a34a", "#dc2626", "#9ca3af"])


def bars(title: str, name: str, empty: str, *, bar_color: str | None = None, **encoding) -> None:
    """A titled bar chart of `analytics.<name>` for the filters, or `empty` when it has no rows."""
    st.subheader(title)
    data = cached(name, scope, filters)
    if data.empty:
        st.caption(empty)
    else:
        st.altair_chart(alt.Chart(data).mark_bar(color=bar_color or alt.Undefined).encode(**encoding), width="stretch")


def overview() -> None:
    """How answers fare over the period: per day, per group, and which videos they cite."""
    left, right = st.columns(2)
    with left:
        bars("Questions per day", "questions_per_day", "No questions in this period.",
             x=alt.X("day:T", title=None), y=alt.Y("questions:Q", title="Questions"),
             color=alt.Color("feedback:N", scale=FEEDBACK_COLORS, title="Feedback"),
             tooltip=["day:T", "feedback:N", "questions:Q"])
    with right:
        bars("Good rate per group", "good_rate_per_group", "No questions in this period.",
             x=alt.X("good_rate:Q", title="Good rate (of rated)", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
             y=alt.Y("group:N", sort="-x", title=None),
             tooltip=["group:N", "questions:Q", "good:Q", "bad:Q", alt.Tooltip("good_rate:Q", format=".0%")])

    left, right = st.columns(2)
    with left:
        st.subheader("Support per day")
        support_days = cached("support_per_day", scope, filters)
        if support_days.empty:
            st.caption("No checked answers in this period.")
        else:
            st.altair_chart(alt.Chart(support_days).mark_line(point=True).encode(
                x=alt.X("day:T", title=None),
                y=alt.Y("support:Q", title="Average support", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                tooltip=["day:T", "checked:Q", alt.Tooltip("support:Q", format=".0%")]), width="stretch")
    with right:
        bars("Support per group", "support_per_group", "No checked answers in this period.",
             x=alt.X("support:Q", title="Average support", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
             y=alt.Y("group:N", sort="x", title=None),
             tooltip=["group:N", "checked:Q", alt.Tooltip("support:Q", format=".0%")])
    st.caption("Support: the share of an answer's sentences that the passages they cite back, averaged over the "
               "answers that claimed something.")

    left, right = st.columns(2)
    with left:
        bars("Most cited videos", "most_cited_videos", "No citations yet.",
             x=alt.X("citations:Q", title="Citations"), y=alt.Y("title:N", sort="-x", title=None),
             tooltip=["title:N", "citations:Q", "in_bad_answers:Q"])
    with right:
        bars("Most cited in bad answers", "most_cited_in_bad", "No bad answers cite a video. Good.", bar_color="#dc2626",
             x=alt.X("bad_citations:Q", title="Citations in bad answers"), y=alt.Y("title:N", sort="-x", title=None),
             tooltip=["title:N", "bad_citations:Q"])


def review_queue() -> None:
    """The answers to review, one opened with its sources, and the groups' regression questions."""
    st.subheader("Answers to review")
    queue_view = st.segmented_control(
        "Show", ["answers", "regressions"], default="answers", key="review-view",
        format_func={"answers": "Answers", "regressions": "Regressions"}.get,
        help="Regressions: pinned questions that retrieval still misses in its latest check") or "answers"
    sort = "worst_first"
    if queue_view == "answers":
        sort_col, note_col = st.columns([1, 2], vertical_alignment="bottom")
        sort = sort_col.selectbox("Order", list(analytics.SORTS), format_func=analytics.SORTS.get, key="review-sort")
        note_col.caption("Newest first within each. Filter by feedback above to see only some.")
    page_number = st.session_state.get("review-page", 1)
    table = cached("answers_table", scope, filters, page=page_number, sort=sort)
    if queue_view == "regressions":
        still_missed(scope, group_id)
    elif table.total == 0:
        st.caption("No answers for these filters.")
    else:
        shown = table.rows[["id", "created_at", "group", "question", "gist", "feedback", "support_score", "origin",
                            "reviewed", "cited"]]
        st.dataframe(shown, hide_index=True, width="stretch", column_config={
            "id": st.column_config.NumberColumn("#", format="%d"),
            "group": "Group", "question": "Question", "feedback": "Feedback", "origin": "Origin",
            "reviewed": st.column_config.CheckboxColumn("Reviewed"),
            "support_score": st.column_config.NumberColumn("Support", format="percent",
                                                           help="Share of its sentences backed by their sources"),
            "created_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
            "gist": st.column_config.TextColumn("Answer", width="large", help="Its first sentence; open it below"),
            "cited": st.column_config.TextColumn("Cited moments", width="medium")})
        pager("review-page", table.page, table.pages, note=f"{table.total:,} answers")

        opened = st.selectbox("Open an exchange", [None, *table.rows["id"].tolist()], key="review-open",
                              format_func=lambda i: "Choose one…" if i is None else
                              f"#{i} · {table.rows.set_index('id').loc[i, 'question'][:80]}")
        if opened is not None:
            with database().session() as session:
                full = analytics.exchange(session, scope, int(opened))
            if full is None:
                st.warning("That exchange is not available.")
            else:
                with st.container(border=True):
                    st.caption(f"#{full['id']} · {full['created_at']:%Y-%m-%d %H:%M} · {md(full['group'])} · "
                               f"{full['origin']} · feedback: {full['feedback']}")
                    st.markdown(f"**Q:** {md(full['question'])}")
                    st.markdown(claims_markdown(full["answer"], full["claims"]))
                    if full["closest"] and not full["sources"]:
                        st.caption("Nothing was found; these moments came closest and were offered, not cited:")
                    for n, source in enumerate(full["sources"] or full["closest"]):
                        label = f"[{source.get('n', n + 1)}] {md(source.get('title'))} · " \
                                f"{format_timestamp(source.get('start', 0))}–{format_timestamp(source.get('end', 0))}"
                        if st.button(label, key=f"review-play-{full['id']}-{n}", icon=":material/play_circle:"):
                            st.session_state["review-player"] = (full["owner_id"], source["video_id"], source.get("start", 0))
                    player = st.session_state.get("review-player")
                    if player:
                        owner_id, video_id, start_at = player
                        try:
                            with database().session() as session:
                                where_from = library.playable(session, settings(), owner_id, video_id)
                            play(video_id, where_from.media_path, where_from.web_url, start_at, autoplay=True)
                        except AskVideoError:
                            st.caption("That video has been deleted.")
                    exchange_panel(scope, full)

    regression_section(scope, group_id)


def questions_and_export() -> None:
    """What people ask most, and the filtered chat logs to download."""
    st.subheader("Most frequent questions")
    frequent = cached("frequent_questions", scope, filters)
    if frequent.empty:
        st.caption("No questions yet.")
    else:
        st.dataframe(frequent, hide_index=True, width="stretch",
                     column_config={"question": "Question (normalised)", "asked": "Asked", "good": "Good", "bad": "Bad"})

    st.subheader("Export")
    if st.button("Prepare export of the filtered chat logs"):
        with st.spinner("Exporting…"), database().session() as session:
            st.session_state["export"] = (scope, filters, analytics.export_csv(session, scope, filters),
                                          analytics.export_parquet(session, scope, filters))
    export = st.session_state.get("export")
    if export and export[:2] == (scope, filters):  # never hand out an export made for other filters
        csv_data, parquet_data = export[2:]
        one, two = st.columns(2)
        one.download_button("Download CSV", csv_data, "ask-video-chat-logs.csv", "text/csv")
        two.download_button("Download Parquet", parquet_data, "ask-video-chat-logs.parquet", "application/octet-stream")


def processing() -> None:
    """How the library's videos were ingested."""
    left, right = st.columns(2)
    with left:
        bars("Ingestion status", "ingestion_status", "No videos added in this period.",
             x=alt.X("videos:Q", title="Videos"), y=alt.Y("status:N", title=None), tooltip=["status:N", "videos:Q"])
    with right:
        st.subheader("Processing time per hour of video")
        speed = cached("processing_speed", scope, filters)
        if speed.empty:
            st.caption("No processed videos in this period.")
        else:
            st.dataframe(speed, hide_index=True, width="stretch", column_config={
                "transcript_source": "Transcript from", "videos": "Videos",
                "hours_of_video": st.column_config.NumberColumn("Hours of video", format="%.2f"),
                "median_s": st.column_config.NumberColumn("Median per video (s)", format="%.0f"),
                "minutes_per_video_hour": st.column_config.NumberColumn(
                    "Minutes per video hour", format="%.1f",
                    help=f"Over videos of at least {analytics.RATE_FROM_SECONDS} s; shorter ones are mostly fixed cost")})


# Only the open tab runs (its aggregates and its charts): filters flip back and forth, and the
# charts and tables are most of what a browser draws here. Streamlit forgets a widget's value on a
# run that does not draw it, so the Review tab's choices are written back each run: a reviewer who
# looks at Overview comes back to the exchange they had open, in the order they chose.
for key in ("review-view", "review-sort", "review-open", "regression-group"):
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]
TABS = {"Review": review_queue, "Overview": overview, "Questions": questions_and_export, "Processing": processing}
for tab, draw in zip(st.tabs(list(TABS), key="analytics-tab", on_change="rerun"), TABS.values()):
    if tab.open:
        with tab:
            draw()
