"""`python -m annotator` runs the CLI."""

from annotator.cli.main import main

if __name__ == "__main__":  # not when multiprocessing imports it in a judge process (spawn)
    main()
