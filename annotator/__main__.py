"""`python -m annotator` runs the CLI."""

from annotator.cli import main

main()
