"""Streamlit glue shared by the pages: the signed-in account, the database handle, the cookie."""
