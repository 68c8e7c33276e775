"""How other raters are named once the reveal phase is open: one rule for the Annotate page's reveal and
the Review page, chosen by the lead (the `reveal_names` setting, see store.REVEAL_NAMES).

The rule is applied here, in the service, so a page never receives names it must not show.
"""

from __future__ import annotations

from dataclasses import replace

import sqlite_utils

from annotator import store


def shown(db: sqlite_utils.Database, labels: list[store.RaterLabels], rule: str) -> list[store.RaterLabels]:
    """People then judges, each in rater-id order; with rule "anonymous" renamed "rater 1", "rater 2", ...
    and "judge 1", ... per segment, so a pseudonym does not follow one person from segment to segment."""
    ids = {r.name: r.id for r in store.list_raters(db)}
    out = []
    for kind, word in (("human", "rater"), ("judge", "judge")):
        mine = sorted((r for r in labels if r.kind == kind), key=lambda r: ids.get(r.rater, 0))
        out += [r if rule == "names" else replace(r, rater=f"{word} {i}") for i, r in enumerate(mine, 1)]
    return out
