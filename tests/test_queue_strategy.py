"""The judge-uncertain queue strategy: which segments it puts first, the order the real claim path hands
them out in (k still respected), roles, the command line, and blindness (nothing of the judge reaches an
annotator). The expected order is written out here from the README's rule, not taken from the code."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import pytest
from helpers import run_cli
from queue_scenario import EVIDENCE, EXPECTED_RANKS, JUDGE, QUEUED, ranks

from annotator import store
from annotator.core.errors import NotFoundError, OptionError, RefusedError
from annotator.core.uncertainty import majority, uncertain_segments
from annotator.services import annotate
from annotator.services.queue_strategy import apply_strategy, current_strategy, hand_out_order

pytestmark = pytest.mark.app_db(traces=4, turns=3, k=2)

def user(db, name):
    return next(u for u in store.list_users(db) if u.name == name)


def expected_claims(rank: dict[int, int], raters: list[str], k: int, rounds: int) -> list[tuple[str, int]]:
    """The README's order, simulated: each claim takes, among queued segments with room that the rater does
    not hold, the one with the most claims, then the lowest rank (0 for the rest), then the lowest id."""
    held: dict[int, set[str]] = {s: set() for s in QUEUED}
    sequence = []
    for _ in range(rounds):
        for rater in raters:
            room = [s for s in QUEUED if len(held[s]) < k and rater not in held[s]]
            if room:
                seg = min(room, key=lambda s: (-len(held[s]), rank.get(s, 0), s))
                held[seg].add(rater)
                sequence.append((rater, seg))
    return sequence


# --------------------------------------------------------------------------------------------------
# Which segments, and in what order

def test_majority_and_the_worked_example():
    assert [majority(v) for v in ([1, 1, 0], [0, 1], [1], [], [0, 0, 1, 1])] == [1, None, 1, None, None]
    judge = {5: {0: {"a": 1, "b": 0}, 1: {"a": 0, "b": 0}}, 9: {0: {"a": 0, "b": 1}}, 2: {0: {"a": 0, "b": 1}}}
    people = {9: {"a": [1, 1, 0], "b": [1]}, 2: {"a": [0], "b": [0, 0]}}
    found = uncertain_segments(judge, people, ["a", "b"], low_modes={"a"})
    # 5: samples disagree on a; 9: judge a=0 vs people 1 on low mode a (b is not low); 2: b is not low
    assert [(u.segment_id, u.samples_disagree, u.judge_vs_people) for u in found] == [
        (5, ("a",), ()), (9, (), ("a",))]


def test_the_strategy_ranks_the_segments_where_the_judge_is_unsure(judged):
    result = apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain")
    assert result.judge == JUDGE and result.sampled_segments == len(QUEUED)
    assert result.people_kappa["1.1"] == pytest.approx(1.0) and result.people_kappa["3.1"] < 0.6
    assert result.people_kappa["2.2"] is None  # nobody marked it: undefined, counted as low
    assert [u.segment_id for u in result.uncertain] == [7, 3, 12]
    assert {u.segment_id: u.modes for u in result.uncertain} == {7: ("1.1", "2.2"), 3: ("1.3",), 12: ("3.1",)}
    assert ranks(judged) == EXPECTED_RANKS
    assert current_strategy(judged)["name"] == "judge-uncertain" and current_strategy(judged)["ranked_segments"] == 3


def test_options_samples_and_threshold(judged):
    one = apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain", samples=1)
    assert [u.segment_id for u in one.uncertain] == [12]  # one sample cannot disagree with itself
    strict = apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain", below_kappa=-1.0)
    assert [u.segment_id for u in strict.uncertain] == [7, 3]  # 3.1's kappa is not below -1
    back = apply_strategy(judged, store.LOCAL_ADMIN, "default")
    assert back.uncertain == () and ranks(judged) == {} and current_strategy(judged)["name"] == "default"


def test_segments_are_handed_out_in_the_documented_order_through_claim(judged):
    apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain")
    store.save_settings(judged, annotators=["alice", "bob", "rita"])
    names = ["alice", "bob", "rita"]
    rater_ids = {name: user(judged, name).rater_id for name in names}
    expected = expected_claims(EXPECTED_RANKS, names, k=2, rounds=9)
    assert expected[:4] == [("alice", 7), ("bob", 7), ("rita", 3), ("alice", 3)]  # the rule, read by hand
    assert [row["segment_id"] for row in hand_out_order(judged, limit=4)] == [7, 3, 12, 2]
    got = []
    for _ in range(9):
        for name in names:
            got += [(name, seg) for seg in store.claim(judged, rater_ids[name], k=2)]
    assert got == expected
    claims = Counter(seg for _, seg in got)
    assert set(claims) == set(QUEUED) and max(claims.values()) == 2  # every segment reached k, none more


def test_handing_out_in_bulk_gives_the_uncertain_segments_first(judged):
    apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain")
    store.assign_to_pool(judged, 2)
    rows = judged.execute("SELECT segment_id FROM assignments ORDER BY assigned_at, rowid").fetchall()
    assert {r[0] for r in rows} == {7, 3}  # alice and bob, two each: the two most uncertain, each to k = 2
    alice = user(judged, "alice")
    assert annotate.next_segment_id(judged, alice) == 7


def test_the_default_order_is_unchanged_by_the_strategy_machinery(app_db):
    alice = user(app_db, "alice")
    assert store.claim(app_db, alice.rater_id, k=2, n=4) == QUEUED[:4]


# --------------------------------------------------------------------------------------------------
# Roles and errors

@pytest.mark.parametrize("name", ["alice", "rita"])
def test_only_an_admin_may_change_the_order(judged, name):
    before = judged.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    with pytest.raises(RefusedError, match="admin"):
        apply_strategy(judged, user(judged, name), "judge-uncertain")
    assert ranks(judged) == {} and store.get_strategy(judged) == {"name": "default"}
    assert judged.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before


def test_an_admin_change_is_audited(judged):
    apply_strategy(judged, user(judged, "lead"), "judge-uncertain", samples=2)
    row = judged.execute("SELECT actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert row[:3] == ("lead", "queue.strategy", "judge-uncertain")
    assert json.loads(row[3]) == {"judge": JUDGE, "samples": 2, "below_kappa": 0.6, "uncertain": 3}


def test_bad_judges_are_named(judged):
    with pytest.raises(NotFoundError, match="no rater"):
        apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain", judge="judge:nobody")
    with pytest.raises(OptionError, match="human rater, not a judge"):
        apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain", judge="p1")
    with pytest.raises(NotFoundError, match="no judge run with that id"):
        apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain", judge="42")


def test_no_judge_run_and_no_judge_named(app_db):
    with pytest.raises(NotFoundError, match="no judge yet"):
        apply_strategy(app_db, store.LOCAL_ADMIN, "judge-uncertain")


# --------------------------------------------------------------------------------------------------
# The command line

def test_cli_strategy_show_and_json(judged, app_tokens, tmp_path):
    db = store.default_path()
    done = run_cli("queue", "strategy", "judge-uncertain", "--judge", JUDGE, db=db)
    assert done.exit_code == 0, done.output
    assert "3 segments first, 3 of them with room" in done.stdout and "(1.2, 1.3, 1.4" in done.stdout
    shown = run_cli("queue", "show", "--limit", "3", db=db)
    assert [line.split()[1] for line in shown.stdout.splitlines()[1:]] == ["7", "3", "12"]
    as_json = json.loads(run_cli("queue", "strategy", "judge-uncertain", "--samples", "1", "--json", db=db).stdout)
    assert as_json["segments"] == [{"segment_id": 12, "rank": -1, "samples_disagree": [], "judge_vs_people": ["3.1"]}]
    assert json.loads(run_cli("queue", "show", "--json", db=db).stdout)["strategy"]["samples"] == 1
    assert "default" in run_cli("queue", "strategy", "default", db=db).stdout
    assert ranks(judged) == {}


@pytest.mark.parametrize("args, message", [
    (["judge-uncertain", "--judge", "judge:nobody"], "no rater of that name"),
    (["judge-uncertain", "--samples", "0"], "--samples"),
    (["judge-uncertain", "--below-kappa", "nan"], "--below-kappa"),
    (["default", "--judge", JUDGE], "belong to judge-uncertain"),
    (["sometimes"], "sometimes"),
])
def test_cli_errors_are_one_line_and_change_nothing(judged, args, message):
    done = run_cli("queue", "strategy", *args, db=store.default_path())
    assert done.exit_code == 1 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert ranks(judged) == {}


# --------------------------------------------------------------------------------------------------
# Blindness: the order may use the judge, the annotator never sees it

def _leaks(text: str) -> list[str]:
    return [s for s in (JUDGE, "m@v1", EVIDENCE, "queue_rank", "uncertain") if s in text]


def test_nothing_of_the_judge_reaches_the_annotate_view_model(judged):
    apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain")
    alice = user(judged, "alice")
    view = annotate.load_view(judged, alice)
    assert view.segment.id == 7 and view.others is None
    assert _leaks(repr(dataclasses.asdict(view))) == []


def test_nothing_of_the_judge_reaches_the_annotate_page(judged, app_tokens):
    from app_helpers import signed_in, texts

    apply_strategy(judged, store.LOCAL_ADMIN, "judge-uncertain")
    at = signed_in(app_tokens["alice"])
    assert at.session_state["ann_current"] == 7  # ordered by the judge ...
    assert _leaks(texts(at)) == []  # ... which she never sees
    assert _leaks(repr(at.session_state.to_dict())) == []
