"""What `streamlit run` executes, on every rerun.

It lives alone in its folder because Streamlit puts the script's folder at the front of sys.path:
run from annotator/app/, the app's own modules (auth, keys, state) would shadow any top-level module
of those names for every library the server imports.
"""

from annotator.app.main import run

run()
