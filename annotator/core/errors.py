"""Errors a user can cause, told apart from bugs.

Every error that a user can fix (a bad file, a bad option, an action the data does not allow, an unknown
name) is a `UserError`: its message is one line naming the file, record or option at fault. The CLI prints
it and exits 1, pages show it; anything else is a bug (exit 2, traceback in the log file).

The subclasses keep the builtin base the code raised before (ValueError, LookupError), so existing
`except ValueError` clauses still catch them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


class UserError(Exception):
    """An error the user can fix; the message is one line saying what and why."""


class OptionError(UserError, ValueError):
    """An option or argument value that cannot be used (the message names the option)."""


class RefusedError(UserError, ValueError):
    """An action the data does not allow now (nothing to build gold from, a version that exists already...)."""


class NotFoundError(UserError, LookupError):
    """A named record that does not exist (a judge run, a rater, a prompt version...)."""


class FileAccessError(UserError):
    """A file the user named cannot be read or written (missing, a folder, permission denied...)."""


def file_error(path: str | Path, exc: OSError, *, doing: str = "read") -> FileAccessError:
    """One line naming the file, what could not be done, and the system's reason."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return FileAccessError(f"{path}: cannot {doing}: {reason[:1].lower() + reason[1:]}")


@contextlib.contextmanager
def about_file(path: str | Path, *, doing: str = "read") -> Iterator[None]:
    """Turn an OSError raised inside the block into a FileAccessError naming `path`."""
    try:
        yield
    except OSError as exc:
        raise file_error(path, exc, doing=doing) from exc
