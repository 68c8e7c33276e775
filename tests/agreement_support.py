"""Builders of LabelSets for the agreement tests (random, hand-made, and the real MAST file)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from annotator.core.agreement import LabelSet


def make_label_set(values, *, kinds=None, groups=None, raters=None, modes=None) -> LabelSet:
    """A LabelSet around an (n, r, m) array with generated ids: units u0.., raters r0.., modes M0.."""
    values = np.asarray(values, dtype=np.int8)
    n, r, m = values.shape
    return LabelSet(
        units=tuple(f"u{i}" for i in range(n)),
        raters=tuple(raters or (f"r{j}" for j in range(r))),
        rater_kinds=tuple(kinds or ("human",) * r),
        modes=tuple(modes or ((f"M{k}", f"mode {k}", f"cat {k % 3}") for k in range(m))),
        values=values,
        unit_groups=None if groups is None else tuple(groups),
    )


def correlated_labels(rng, n: int, r: int, m: int, *, prevalence=0.15, noise=0.2, missing=0.0) -> np.ndarray:
    """Raters copy a latent truth per (unit, mode) and flip it with probability ``noise``."""
    prevalence = np.broadcast_to(np.asarray(prevalence, dtype=float), (m,))
    truth = rng.random((n, 1, m)) < prevalence
    flip = rng.random((n, r, m)) < noise
    values = (truth ^ flip).astype(np.int8)
    values[rng.random((n, r, m)) < missing] = -1
    return values


def random_label_set(seed: int, n: int, r: int, m: int, **kwargs) -> LabelSet:
    return make_label_set(correlated_labels(np.random.default_rng(seed), n, r, m, **kwargs))


def _label_value(raw) -> int:
    """MAST labels are JSON booleans; a few are NaN (not labelled), which is missing, not absent."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return -1
    return int(bool(raw))


def mast_round_label_sets(path: Path) -> dict[str, LabelSet]:
    """One trace-level LabelSet per annotation round of MAD_human_labelled_dataset.json.

    Modes are the round's own draft codes and names (taken from the "failure mode" strings).
    """
    records = json.loads(path.read_text(encoding="utf-8"))
    by_round: dict[str, list[dict]] = {}
    for record in records:
        by_round.setdefault(record["round"], []).append(record)
    raters = ("annotator_1", "annotator_2", "annotator_3")
    out = {}
    for round_name, recs in by_round.items():
        heads = [a["failure mode"].split("\n")[0].strip() for a in recs[0]["annotations"]]
        codes = [head.split(" ", 1)[0] for head in heads]
        modes = tuple((code, head.split(" ", 1)[1].strip(), code.split(".")[0]) for code, head in zip(codes, heads))
        values = np.full((len(recs), len(raters), len(codes)), -1, dtype=np.int8)
        for i, rec in enumerate(recs):
            for ann in rec["annotations"]:
                k = codes.index(ann["failure mode"].split(" ", 1)[0])
                values[i, :, k] = [_label_value(ann[rater]) for rater in raters]
        units = tuple(f"trace-{rec['trace_id']}" for rec in recs)
        out[round_name] = LabelSet(units, raters, ("human",) * 3, modes, values)
    return out
