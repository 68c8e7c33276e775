"""Label failure modes in multi-agent LLM traces and measure agreement between raters."""

import logging

# A library stays quiet: the entry points (CLI, app) send records to the log file (services/logs.py).
logging.getLogger(__name__).addHandler(logging.NullHandler())

DISTRIBUTION = "mast-annotator"  # the name on PyPI; the import name is `annotator`


def __getattr__(name: str) -> str:
    """`annotator.__version__`, read from the installed package's metadata: pyproject's [project] version
    is the one source of truth (click's --version reads the same). Lazy, because importlib.metadata
    costs ~20 ms that `annotator --help` should not pay."""
    if name != "__version__":
        raise AttributeError(f"module 'annotator' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # imported from a checkout that was never installed (pip install -e .)
        return "0+unknown"
