"""Whether the report lists every rater pair: their number grows with the square of the raters (issue 15).

Each listed pair is an entry per mode with some thirty figures; 150 raters make 11,175 pairs, a 109 MB
JSON document nobody reads pair by pair. Beyond ``AUTO_MAX_RATERS`` raters the report (by default,
``pairs="auto"``) leaves out the pair lists (``modes[].pairs``, ``pooled.pairs``, ``summary.pairs`` and,
at trace level, ``trace_coverage``, all empty) and keeps every per-mode figure: the people's mean pairwise
kappa, Fleiss' kappa, Krippendorff's alpha, each judge against the people, with their intervals, which
are the same either way. ``params.pairs_omitted`` and ``params.pairs_omitted_reason`` say so; ``"all"``
brings the pairs back (in memory linear in the pairs listed), ``"none"`` leaves them out at any size.
"""

from __future__ import annotations

from typing import cast

from annotator.core.report.model import PairsChoice, PairsListing

PAIRS_AUTO, PAIRS_ALL, PAIRS_NONE = "auto", "all", "none"
PAIRS_CHOICES = (PAIRS_AUTO, PAIRS_ALL, PAIRS_NONE)
AUTO_MAX_RATERS = 20  # 190 pairs: the per-pair tables stay readable, the JSON a few MB


def list_pairs(choice: str, raters: int) -> tuple[bool, str | None]:
    """(list the pairs?, why they are left out, or None when listed) for ``choice`` and ``raters``.

    >>> list_pairs("auto", 3), list_pairs("auto", 21)[0], list_pairs("all", 150)
    ((True, None), False, (True, None))
    """
    if choice not in PAIRS_CHOICES:
        raise ValueError(f"pairs must be one of {', '.join(PAIRS_CHOICES)}, got {choice!r}")
    pairs = raters * (raters - 1) // 2
    if choice == PAIRS_NONE:
        return False, f"pairs=none: the {pairs} rater pairs are not listed"
    if choice == PAIRS_AUTO and raters > AUTO_MAX_RATERS:
        return False, (f"{raters} raters make {pairs} rater pairs, more than the {AUTO_MAX_RATERS} raters "
                       f"(pairs=auto) whose pairs are listed; pairs=all lists them")
    return True, None


def listing_params(choice: str, raters: int, omitted_reason: str | None) -> PairsListing:
    """The report's ``params`` about the pair lists (see :class:`annotator.core.report.model.Params`)."""
    return {"pairs": cast(PairsChoice, choice), "pairs_total": raters * (raters - 1) // 2,
            "pairs_auto_max_raters": AUTO_MAX_RATERS, "pairs_omitted": omitted_reason is not None,
            "pairs_omitted_reason": omitted_reason}
