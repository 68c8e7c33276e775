"""Label failure modes in multi-agent LLM traces and measure agreement between raters."""

__version__ = "0.1.0"
