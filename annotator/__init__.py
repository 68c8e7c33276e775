"""Label failure modes in multi-agent LLM traces and measure agreement between raters."""

import logging

# A library stays quiet: the entry points (CLI, app) send records to the log file (services/logs.py).
logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"
