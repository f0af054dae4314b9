"""HTTP beside the Streamlit pages: the ASGI app's own routes (asgi.py mounts them)."""
