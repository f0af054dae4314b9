"""Ask Video: the Streamlit entry point. Decides who is signed in and which pages they see."""

from __future__ import annotations

import streamlit as st

from ui.session import current_account, forget, write_pending_cookie

st.set_page_config(page_title="Ask Video", page_icon=":material/smart_display:", layout="wide")

account = current_account()
st.session_state["account"] = account
write_pending_cookie()

if account is None:
    pages = [st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", default=True)]
else:
    pages = [
        st.Page("pages/library.py", title="Library", icon=":material/video_library:", default=True),
        st.Page("pages/upload.py", title="Add videos", icon=":material/upload:"),
        st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
    ]
    with st.sidebar:
        st.caption(f"Signed in as **{account.username}**" + (" · staff" if account.is_staff else ""))
        if st.button("Sign out", key="sign_out"):
            forget()
            st.rerun()

st.navigation(pages).run()
