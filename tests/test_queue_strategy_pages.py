"""The judge-uncertain strategy in the app: the Data page control (admin) and the Agreement page's comparison
of the people's agreement where the judge is unsure with the rest (checked against scikit-learn's kappa)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from app_helpers import add_other_labels, signed_in, texts
from queue_scenario import EXPECTED_RANKS, JUDGE, ranks
from queue_scenario import PEOPLE as FIRST
from sklearn.metrics import cohen_kappa_score

from annotator import store
from annotator.app.components.uncertain_panels import rows
from annotator.services.queue_strategy import apply_strategy
from annotator.services.uncertain_agreement import uncertain_agreement

pytestmark = pytest.mark.app_db(traces=4, turns=3, k=2)

PEOPLE = ("p1", "p2", "p3")
# More people's labels after the order was applied: the uncertain subset is then {3, 7, 12}, the rest {2, 14, 15, 16}.
MORE = {7: ({"1.1"}, {"2.2"}, {"1.1", "2.2"}), 3: ({"1.3"}, {"1.3"}, set()), 2: (set(), {"1.3"}, set())}


def mean_pairwise_kappa(table: dict[int, tuple[set, ...]], segments: list[int], code: str) -> float | None:
    """The people's mean pairwise Cohen's kappa on `segments` by scikit-learn; None when no pair is defined."""
    kappas = []
    for a, b in itertools.combinations(range(len(PEOPLE)), 2):
        x = [int(code in table[s][a]) for s in segments]
        y = [int(code in table[s][b]) for s in segments]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns where kappa is undefined (nan)
            kappa = cohen_kappa_score(x, y)
        if not np.isnan(kappa):
            kappas.append(kappa)
    return float(np.mean(kappas)) if kappas else None


def test_agreement_on_the_uncertain_segments_against_sklearn(judged):
    apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain")
    for seg, sets in MORE.items():
        for name, codes in zip(PEOPLE, sets):
            add_other_labels(judged, seg, name, codes)
    table = {**FIRST, **MORE}
    result = uncertain_agreement(judged, bootstrap=200, seed=1)
    assert (result.uncertain_segments, result.rest_segments, result.ranked) == (3, 4, 3)
    by_code = {m.code: m for m in result.modes}
    for code in ("1.1", "1.3", "2.2", "3.1", "1.2"):
        for subset, segments in ((by_code[code].uncertain, [3, 7, 12]), (by_code[code].rest, [2, 14, 15, 16])):
            expected = mean_pairwise_kappa(table, segments, code)
            if expected is None:
                assert subset.mean_kappa is None and subset.ci_low is None
            else:
                assert subset.mean_kappa == pytest.approx(expected)
                assert subset.ci_low <= subset.mean_kappa <= subset.ci_high
    assert by_code["1.2"].uncertain.mean_kappa is None and by_code["1.2"].difference is None  # nobody marked 1.2
    shown = {row["mode"]: row for row in rows(result)}
    assert shown["1.2"]["where the judge is unsure"] == "n/a" and shown["1.2"]["difference"] == "n/a"


def test_no_strategy_no_comparison(app_db):
    assert uncertain_agreement(app_db) is None


def test_data_page_applies_the_strategy(judged, app_tokens):
    at = signed_in(app_tokens["lead"], "views/data.py")
    assert at.selectbox(key="queue_strategy_judge").value == JUDGE
    at.radio(key="queue_strategy_name").set_value("judge-uncertain")
    next(b for b in at.button if b.label == "Apply order").click().run()
    assert not at.exception and not at.error
    assert ranks(judged) == EXPECTED_RANKS
    assert any("3 segments where the judge is unsure come first" in s.value for s in at.success)
    assert "In use: where the judge is unsure, first" in texts(at)
    order = next(d.value for d in at.dataframe if "first" in d.value.columns)
    assert list(order["segment_id"][:3]) == [7, 3, 12] and list(order["first"][:4]) == [True, True, True, False]


def test_data_page_shows_a_refusal_and_changes_nothing(app_db, app_tokens):
    at = signed_in(app_tokens["lead"], "views/data.py")
    at.radio(key="queue_strategy_name").set_value("judge-uncertain")
    next(b for b in at.button if b.label == "Apply order").click().run()
    assert not at.exception
    assert any("no judge yet" in e.value for e in at.error)
    assert ranks(app_db) == {} and store.get_strategy(app_db) == {"name": "default"}


def test_agreement_page_compares_uncertain_segments_with_the_rest(judged, app_tokens):
    at = signed_in(app_tokens["rita"], "views/agreement.py")
    assert "Where the judge is unsure, and the rest" not in [s.value for s in at.subheader]
    apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain")
    at = signed_in(app_tokens["rita"], "views/agreement.py")
    assert not at.exception and not at.error
    assert "Where the judge is unsure, and the rest" in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "where the judge is unsure" in d.value.columns)
    by_mode = table.set_index("mode")
    assert len(table) == 14
    # one labelled uncertain segment (12): all three said 1.1 there, so its kappa is undefined, not 0 or 1
    assert by_mode.loc["1.1", "where the judge is unsure"] == "n/a" and by_mode.loc["1.1", "difference"] == "n/a"
    assert by_mode.loc["1.1", "the rest"].startswith("1.00")
