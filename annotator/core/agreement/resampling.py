"""What the bootstrap resamples: single segments, or whole traces (issue 10, item 2).

Segments cut from one trace (its turns, or windows of turns) share an author, a task and a failure,
so their labels are correlated; resampling them one by one treats them as independent and gives
intervals that are too narrow. Resampling whole traces (a cluster bootstrap: every segment of a drawn
trace comes along) keeps that correlation. When every trace holds one segment the two are the same
thing, and at trace level the units are traces already.

The default therefore follows the segmentation: ``trace`` when some trace holds more than one of the
report's segments (turn- or window-level data), ``segment`` when each segment is a whole trace. This
module decides it for the CLI, the app and the judge lab alike; the report records the choice and
the reason in ``params.resample`` and ``params.resample_reason``.
"""

from __future__ import annotations

import numpy as np

from .labels import LabelSet

SEGMENT = "segment"
TRACE = "trace"
RESAMPLE_BY = (SEGMENT, TRACE)


def choose_resample(label_set: LabelSet, *, level: str, requested: str | None = None) -> tuple[str, str]:
    """(what to resample, why) for a report of ``label_set`` at ``level``; ``requested`` overrides the default.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((3, 2, 1), dtype=np.int8)
    >>> ls = LabelSet(("s1", "s2", "s3"), ("a", "b"), ("human", "human"), (("1.1", "m", "c"),), v,
    ...               unit_groups=("t1", "t1", "t2"))
    >>> choose_resample(ls, level="segment")[0], choose_resample(ls, level="segment", requested="segment")[0]
    ('trace', 'segment')
    """
    if requested is not None and requested not in RESAMPLE_BY:
        raise ValueError(f"resample must be one of {', '.join(RESAMPLE_BY)}, got {requested!r}")
    if level == "trace":  # both choices draw the units, which are traces
        return requested or TRACE, "trace-level report: each unit is a trace, so resampling units resamples traces"
    if label_set.unit_groups is None:
        if requested == TRACE:
            raise ValueError("resample='trace' needs the trace of each segment (LabelSet.unit_groups)")
        return SEGMENT, "the trace of each segment is not known: segments are resampled one by one"
    segments, traces = len(label_set.units), len(set(label_set.unit_groups))
    shape = f"{segments} segments in {traces} traces"
    if requested == SEGMENT:
        return SEGMENT, f"chosen: segments resampled one by one ({shape})"
    if requested == TRACE:
        return TRACE, f"chosen: whole traces resampled ({shape})"
    if segments > traces:
        return TRACE, (f"default for turn- and window-level data ({shape}): segments of one trace are not "
                       "independent, so whole traces are resampled")
    return SEGMENT, f"default for trace-level segmentation ({shape}, one per trace): segments are resampled"


def resample_groups(label_set: LabelSet, resample: str) -> np.ndarray | None:
    """The group index of each unit for the bootstrap (None: units are drawn one by one).

    At trace level (``unit_groups`` None after :func:`.labels.rollup`) the units are the traces.
    """
    if resample == SEGMENT or label_set.unit_groups is None:
        return None
    _, inverse = np.unique(np.asarray(label_set.unit_groups, dtype=object), return_inverse=True)
    return inverse.ravel().astype(np.intp)
