"""Agreement between raters on binary failure-mode labels (pure core: numpy and stdlib only).

Public API::

    from annotator.core.agreement import LabelSet, build_report, compute_report, rollup

Modules: ``labels`` (LabelSet, rollup), ``pairwise`` (2x2 statistics), ``bootstrap`` (percentile
bootstrap by matrix products), ``multirater`` (Fleiss, Krippendorff), ``ambiguity``
(co-confusion, contested units), ``classification`` (judge vs reference), ``compute`` (the report),
``document`` (the report with how it was made). The report's shape is ``annotator.core.report.model``.
"""

from .ambiguity import co_confusion, contested_units
from .classification import classification_scores, judge_scores, scores_from_counts
from .compute import compute_report
from .document import build_report
from .labels import RATER_KINDS, LabelSet, rater_pairs, rollup
from .multirater import fleiss_kappa, krippendorff_alpha
from .pairwise import kappa_from_counts, pair_flags, pair_statistics, two_rater_counts

__all__ = [
    "RATER_KINDS",
    "LabelSet",
    "build_report",
    "classification_scores",
    "co_confusion",
    "compute_report",
    "contested_units",
    "fleiss_kappa",
    "judge_scores",
    "kappa_from_counts",
    "krippendorff_alpha",
    "pair_flags",
    "pair_statistics",
    "rater_pairs",
    "rollup",
    "scores_from_counts",
    "two_rater_counts",
]
