"""Ask Video's logic. No Streamlit imports here: pages call these functions with plain arguments."""
