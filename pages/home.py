"""Landing page for a signed-in user."""

import streamlit as st

account = st.session_state["account"]

st.title(f"Welcome, {account.username}")
st.markdown(
    """
Ask Video turns your videos into a knowledge base you can question:

1. **Upload** video files or paste YouTube links — transcripts come from captions or speech-to-text.
2. **Group** related videos.
3. **Ask** a group anything: every claim in the answer cites the video and the second it comes from.

Add an OpenAI API key (or a local OpenAI-compatible server) in **Settings** for generated answers;
without one, answers are built from the transcript itself.
"""
)
st.caption(f"Your video limit: {account.video_limit}")
