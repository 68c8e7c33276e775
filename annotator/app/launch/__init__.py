"""The folder Streamlit runs the app from (it puts the script's folder on sys.path)."""
