"""The judge-uncertain scenario shared by the queue-strategy tests: a judge with two samples per segment and
three people, on the app database of `app_tokens` (4 traces x 3 turns, k = 2). The expected ranks are worked
out by hand from the README's rule."""

from __future__ import annotations

from app_helpers import add_other_labels

from annotator import store

JUDGE = "judge:m@v1"
EVIDENCE = "JUDGE-QUOTE-7f3a"  # the judge's evidence: must never reach an annotator
# make_app_db: trace t has its whole-trace segment (not queued) then 3 queued turns.
QUEUED = [2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16]
# What the judge said, per segment: (sample 0 positives, sample 1 positives).
JUDGE_SAMPLES = {7: ({"1.1", "2.2"}, set()),  # samples disagree on two modes
                 3: ({"1.3"}, set()),  # samples disagree on one mode
                 12: ({"3.1"}, {"3.1"}),  # agrees with itself; the people's majority on 3.1 (low kappa) is 0
                 14: (set(), set()),  # 1.1 absent, people say present, but their 1.1 kappa is 1: not uncertain
                 15: ({"3.1"}, {"3.1"})}  # the people's majority on 3.1 is 1 here: agreed
# Three people on segments 12, 14, 15, 16: 1.1 unanimous (kappa 1), 3.1 split (kappa well below 0.6),
# every other mode absent for everyone (kappa undefined, so "still low").
PEOPLE = {12: ({"1.1", "3.1"}, {"1.1"}, {"1.1"}), 14: ({"1.1"}, {"1.1", "3.1"}, {"1.1"}),
          15: ({"3.1"}, set(), {"3.1"}), 16: (set(), set(), {"3.1"})}
# The README's rule: minus the number of uncertain modes; 7 (two modes), then 3 and 12 (one each, by id).
EXPECTED_RANKS = {7: -2, 3: -1, 12: -1}


def write_judge(db) -> None:
    tax = store.get_taxonomy(db, "mast")
    rater_id = store.ensure_rater(db, JUDGE, "judge")
    for seg in QUEUED:
        for sample, codes in enumerate(JUDGE_SAMPLES.get(seg, (set(), set()))):
            values = {mode_id: int(code in codes) for code, mode_id in tax.mode_ids.items()}
            store.write_labels(db, store.LabelWrite(seg, rater_id, tax.id, values, sample=sample,
                                                    evidence={m: EVIDENCE for m in values}))


def add_judge_and_people(db) -> None:
    """The judge's two samples on every queued segment, and three people's labels (PEOPLE)."""
    write_judge(db)
    for seg, sets in PEOPLE.items():
        for name, codes in zip(("p1", "p2", "p3"), sets):
            add_other_labels(db, seg, name, codes)


def ranks(db) -> dict[int, int]:
    return dict(db.execute("SELECT id, queue_rank FROM segments WHERE queue_rank != 0").fetchall())
