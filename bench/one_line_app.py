"""The sign-in page's first elements and nothing else: what any Streamlit page costs a browser here
(bench/pages.py's floor)."""

import streamlit as st

st.title("Ask Video")
st.text_input("Username")
st.button("Create account")
