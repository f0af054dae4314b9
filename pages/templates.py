"""Post templates: the formats posts are written in (a LinkedIn post ships), and the user's own."""

import streamlit as st

from core import content_templates as ct
from core.errors import AskVideoError
from ui.session import database
from ui.widgets import confirmed, md, show_error

account = st.session_state["account"]
workspace = st.session_state["workspace"]  # where this page works (ui/workspace.py)
st.title("Post templates")
st.caption("Posts are made from a group (Groups → Summary) or from an answer (Ask). Each format is a "
           "Jinja2 template; yours wins over the one that ships with the app.")

def save(content_type: str, body: str, *, success: str) -> None:
    try:
        with database().session() as session:
            ct.save_template(session, account.id, content_type, body, workspace_id=workspace.id)
    except AskVideoError as error:
        show_error(error)
    else:
        st.toast(success)
        st.rerun()


with database().session() as session:
    types = ct.content_types(session, account.id, workspace_id=workspace.id)

chosen = st.selectbox("Format", types, format_func=lambda t: t.label + ("" if t.is_default else " · yours"))
with st.form(f"template-{chosen.content_type}"):
    body = st.text_area("Template", value=chosen.body, height=320, max_chars=ct.MAX_TEMPLATE_CHARS)
    check, keep = st.columns(2)
    preview = check.form_submit_button("Preview with sample data")
    saved = keep.form_submit_button("Save as my template", type="primary")
if preview:
    try:
        st.code(ct.preview(body), language=None, wrap_lines=True)
    except AskVideoError as error:
        show_error(error)
if saved:
    save(chosen.content_type, body, success="Template saved.")
if not chosen.is_default:
    label = "Go back to the shipped template" if chosen.has_default else "Delete this format"
    if confirmed(st, label, "Your version of this template is deleted." if chosen.has_default
                 else "This format and its template are deleted.", key="delete-template",
                 icon=":material/restart_alt:" if chosen.has_default else ":material/delete:"):
        with database().session() as session:
            ct.delete_template(session, account.id, chosen.content_type, workspace_id=workspace.id)
        st.toast("Done.")
        st.rerun()

with st.expander("Variables you can use"):
    st.markdown("\n".join(f"- `{name}` — {md(meaning)}" for name, meaning in ct.VARIABLES.items()))
    st.caption("Lists are looped with `{% for point in key_points %}…{% endfor %}`; filters such as "
               "`join`, `upper` and `truncate` work. Templates run in a sandbox: they cannot reach files, "
               "settings or Python internals.")

with st.expander("Add a format"):
    with st.form("new-format", clear_on_submit=True):
        name = st.text_input("Name", placeholder="Team newsletter", max_chars=50)
        new_body = st.text_area("Template", value="{{ topic }}\n\n{% for point in key_points %}- {{ point }}\n"
                                "{% endfor %}", height=200, max_chars=ct.MAX_TEMPLATE_CHARS)
        if st.form_submit_button("Add format"):
            try:
                slug = ct.type_name(name)
            except AskVideoError as error:
                show_error(error)
            else:
                if any(t.content_type == slug for t in types):
                    st.error(f"There is already a format called “{md(name)}”; choose it above to edit it.")
                else:
                    save(slug, new_body, success="Format added.")
