"""Agreement among people for the Taxonomy page and `annotator taxonomy ambiguous|compare`.

A definition is ambiguous when people read it differently; a judge's labels would blur that, so these
figures are among people (raters of kind "human") only. The page and the commands call the functions
here, so both give the same numbers for the same versions.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from annotator import store
from annotator.core.errors import RefusedError
from annotator.core.report.model import Report
from annotator.core.report.modes import AmbiguousMode, VersionChange, ambiguous_modes, compare_versions
from annotator.services.report import NoLabelsError, report_for

# A taxonomy reference (NAME@VERSION) to its report among people: the page passes a cached one.
ReportOf = Callable[[str], Report]


class NoMappingError(RefusedError):
    """The two versions are not a refinement of one another: there is nothing to compare mode by mode."""


def people_raters(db: sqlite_utils.Database) -> tuple[str, ...]:
    """The raters who are people, in the store's order; NoLabelsError when there is none."""
    humans = tuple(r.name for r in store.list_raters(db) if r.kind == "human")
    if not humans:
        raise NoLabelsError("no human raters yet")
    return humans


def people_report(db: sqlite_utils.Database, ref: str, *, tags: dict[str, str] | None = None,
                  bootstrap: int = 0) -> Report:
    """The agreement report of ``ref`` among people only (no judge, no gold)."""
    return report_for(db, taxonomy=ref, raters=list(people_raters(db)), tags=tags, bootstrap=bootstrap)


def _report_of(db: sqlite_utils.Database, report_of: ReportOf | None, tags: dict[str, str] | None,
               bootstrap: int) -> ReportOf:
    return report_of or (lambda ref: people_report(db, ref, tags=tags, bootstrap=bootstrap))


def refinement_comparison(db: sqlite_utils.Database, before: str, after: str, *, tags: dict[str, str] | None = None,
                          bootstrap: int = 0, report_of: ReportOf | None = None) -> list[VersionChange]:
    """Mean pairwise kappa among people per mode of ``after`` beside that of the ``before`` modes it came from.

    ``report_of`` replaces :func:`people_report` (with ``tags`` and ``bootstrap``), e.g. by a cached one;
    it must select people only.
    """
    old, new = store.get_taxonomy(db, before), store.get_taxonomy(db, after)
    mapping = store.get_mapping_rows(db, old.id, new.id)
    if not mapping:
        raise NoMappingError(f"no stored mapping from {old.taxonomy.ref} to {new.taxonomy.ref}")
    people = _report_of(db, report_of, tags, bootstrap)
    return compare_versions(people(old.taxonomy.ref), people(new.taxonomy.ref), mapping)


def ambiguous(db: sqlite_utils.Database, ref: str, *, tags: dict[str, str] | None = None, bootstrap: int = 0,
              report_of: ReportOf | None = None) -> list[AmbiguousMode]:
    """Modes of ``ref`` ranked by agreement among people, with their co-confused partners."""
    return ambiguous_modes(_report_of(db, report_of, tags, bootstrap)(ref))
