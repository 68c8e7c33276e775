"""Localisation agreement for a database selection: the report section, for `annotator report`,
`annotator localise report` and the Agreement page."""

from __future__ import annotations

from typing import cast

import sqlite_utils

from annotator import store
from annotator.core.agreement.localisation import DEFAULT_K, Point, localisation_section
from annotator.core.errors import NotFoundError, OptionError
from annotator.core.report.model import Localisation


def _point(answer: store.Answer) -> Point:
    root = answer.root_cause
    if root is None:
        return Point(None)
    return Point(root.step, root.agent, root.mode, frozenset(f.step for f in answer.failures))


def localisation_for(db: sqlite_utils.Database, *, raters: list[str] | None = None,
                     tags: dict[str, str] | None = None, k: int = DEFAULT_K, bootstrap: int = 1000,
                     seed: int = 0) -> Localisation | None:
    """The localisation section over the selected raters and traces; None when nobody localised any."""
    if k < 0:
        raise OptionError(f"--k must be 0 or more, not {k}")
    if raters is not None:
        unknown = [name for name in raters if store.get_rater(db, name) is None]
        if unknown:
            raise NotFoundError(f"no rater named {unknown[0]!r} (see 'annotator stats')")
    traces = store.traces_with_tags(db, tags) if tags else None
    answers: dict[str, dict[str, Point]] = {}
    kinds: dict[str, str] = {}
    for answer in store.load_answers(db, raters=raters, trace_ids=traces):
        answers.setdefault(answer.rater, {})[str(answer.trace_id)] = _point(answer)
        kinds[answer.rater] = answer.rater_kind
    if not answers:
        return None
    if raters is not None:  # in the order the user named them
        answers = {name: answers[name] for name in raters if name in answers}
    section = localisation_section(answers, kinds, k=k, n_resamples=bootstrap, seed=seed)
    return cast(Localisation, section)
