"""The annotation queue and service: claiming, k, lists, submit/skip/edit, the blind rule, concurrency."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter

import pytest
from app_helpers import add_other_labels, make_app_db
from crowd import annotate_all, process_worker

from annotator import store
from annotator.core.taxonomy import load_taxonomy
from annotator.services import annotate
from annotator.services.annotate import AnnotateError, Choice

pytestmark = pytest.mark.app_db(traces=4, turns=3, k=2)


def user(db, name):
    return next(u for u in store.list_users(db) if u.name == name)


def test_next_segment_is_claimed_once_and_kept_until_submitted(app_db):
    alice = user(app_db, "alice")
    first = annotate.next_segment_id(app_db, alice)
    assert annotate.next_segment_id(app_db, alice) == first  # a reload does not claim again
    assert store.rater_progress(app_db, alice.rater_id) == store.Progress(assigned=1, done=0, skipped=0, unsure=0)
    annotate.submit(app_db, alice, first, Choice(frozenset({"1.3"})))
    second = annotate.next_segment_id(app_db, alice)
    assert second != first
    assert store.rater_progress(app_db, alice.rater_id).done == 1


def test_a_segment_goes_to_at_most_k_annotators(app_db):
    store.save_settings(app_db, k=1, annotators=["alice", "bob", "rita"])
    seen = []
    for name in ("alice", "bob", "rita"):
        u = user(app_db, name)
        seen += store.claim(app_db, u.rater_id, k=1, n=20)
    assert len(seen) == len(set(seen)) == 12  # 4 traces x 3 turns, each to one annotator
    store.save_settings(app_db, k=2)
    alice = user(app_db, "alice")
    more = store.claim(app_db, alice.rater_id, k=2, n=50)
    assert set(more).isdisjoint(store.claim(app_db, alice.rater_id, k=2, n=1) or [])
    counts = Counter(r[0] for r in app_db.execute("SELECT segment_id FROM assignments"))
    assert max(counts.values()) <= 2


def test_the_pool_decides_who_claims(app_db):
    rita = user(app_db, "rita")  # a reviewer: not in the default pool (role annotator)
    assert annotate.next_segment_id(app_db, rita) is None
    store.save_settings(app_db, annotators=["rita"])
    assert annotate.next_segment_id(app_db, rita) is not None
    assert annotate.next_segment_id(app_db, user(app_db, "alice")) is None


def test_submit_writes_every_mode_and_a_submission(app_db):
    alice = user(app_db, "alice")
    seg = annotate.next_segment_id(app_db, alice)
    annotate.submit(app_db, alice, seg, Choice(frozenset({"1.3", "2.2"}), rationales={"1.3": " again ", "3.1": "x"}),
                    duration_ms=1200)
    tax = store.get_taxonomy(app_db, "mast")
    [mine] = store.labels_for_segment(app_db, seg, tax.id, rater_id=alice.rater_id)
    assert len(mine.values) == 14 and {c for c, v in mine.values.items() if v} == {"1.3", "2.2"}
    assert mine.rationales == {"1.3": "again"}  # only for marked modes, trimmed
    assert store.submission_history(app_db, seg, alice.rater_id)[0][1] == "done"


@pytest.mark.parametrize("choice, message", [
    (Choice(frozenset()), "No failure"),
    (Choice(frozenset({"1.1"}), no_failure=True), "untick"),
    (Choice(frozenset({"9.9"})), "unknown mode"),
])
def test_empty_or_contradictory_choices_write_nothing(app_db, choice, message):
    alice = user(app_db, "alice")
    seg = annotate.next_segment_id(app_db, alice)
    with pytest.raises(AnnotateError, match=message):
        annotate.submit(app_db, alice, seg, choice)
    assert app_db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0
    assert store.assignment_status(app_db, alice.rater_id, seg) == "pending"


def test_no_failure_writes_fourteen_zeros(app_db):
    alice = user(app_db, "alice")
    seg = annotate.next_segment_id(app_db, alice)
    annotate.submit(app_db, alice, seg, Choice(frozenset(), no_failure=True))
    rows = app_db.execute("SELECT value FROM labels WHERE segment_id = ? AND rater_id = ?", [seg, alice.rater_id]).fetchall()
    assert [r[0] for r in rows] == [0] * 14


def test_nobody_writes_labels_on_a_segment_outside_their_list(app_db):
    alice, bob = user(app_db, "alice"), user(app_db, "bob")
    seg = annotate.next_segment_id(app_db, alice)
    with pytest.raises(AnnotateError, match="not in your list"):
        annotate.submit(app_db, bob, seg, Choice(frozenset({"1.1"})))
    with pytest.raises(AnnotateError, match="not in your list"):
        annotate.skip(app_db, bob, seg)


def test_editing_an_earlier_segment_keeps_history(app_db):
    alice = user(app_db, "alice")
    first = annotate.next_segment_id(app_db, alice)
    annotate.submit(app_db, alice, first, Choice(frozenset({"1.1"})))
    second = annotate.next_segment_id(app_db, alice)
    view = annotate.load_view(app_db, alice, first)
    assert view.status == "done" and view.place.next_id == second and view.place.position == 1
    annotate.submit(app_db, alice, first, Choice(frozenset({"1.2"}), unsure=True))
    view = annotate.load_view(app_db, alice, first)
    assert view.status == "unsure" and view.mine.values["1.2"] == 1 and view.mine.values["1.1"] == 0
    assert [status for _, status in view.history] == ["done", "unsure"]
    assert annotate.next_segment_id(app_db, alice) == second  # editing did not move her frontier


def test_skip_releases_the_claim_and_a_full_segment_cannot_be_taken_back(app_db):
    store.save_settings(app_db, k=1)
    alice, bob = user(app_db, "alice"), user(app_db, "bob")
    seg = annotate.next_segment_id(app_db, alice)
    annotate.skip(app_db, alice, seg)
    assert store.assignment_status(app_db, alice.rater_id, seg) == "skipped"
    assert app_db.execute("SELECT assigned FROM segments WHERE id = ?", [seg]).fetchone()[0] == 0
    assert annotate.next_segment_id(app_db, bob) == seg  # someone else can take it
    assert annotate.next_segment_id(app_db, alice) != seg  # she is not offered it again
    with pytest.raises(AnnotateError, match="after you skipped it"):  # k = 1 and bob holds it: k means k
        annotate.submit(app_db, alice, seg, Choice(frozenset({"3.1"})))
    assert app_db.execute("SELECT assigned FROM segments WHERE id = ?", [seg]).fetchone()[0] == 1
    annotate.submit(app_db, bob, seg, Choice(frozenset({"3.1"})))
    with pytest.raises(AnnotateError, match="already labelled"):
        annotate.skip(app_db, bob, seg)


def test_blind_until_submitted_and_revealed(app_db):
    alice = user(app_db, "alice")
    seg = annotate.next_segment_id(app_db, alice)
    add_other_labels(app_db, seg, "annotator_1", {"1.1"})
    add_other_labels(app_db, seg, "judge:gpt@abc", {"2.2"}, kind="judge")
    store.save_settings(app_db, reveal=True)
    assert annotate.load_view(app_db, alice, seg).others is None  # revealed, but she has not submitted
    annotate.submit(app_db, alice, seg, Choice(frozenset({"1.1"})))
    store.save_settings(app_db, reveal=False)
    assert annotate.load_view(app_db, alice, seg).others is None  # submitted, but no reveal phase
    store.save_settings(app_db, reveal=True)
    others = annotate.load_view(app_db, alice, seg).others
    assert {o.rater for o in others} == {"rater 1", "judge 1"}  # the default naming rule: anonymous
    store.save_settings(app_db, reveal_names="names")
    others = annotate.load_view(app_db, alice, seg).others
    assert {o.rater for o in others} == {"annotator_1", "judge:gpt@abc"}
    assert next(o for o in others if o.rater == "annotator_1").rationales == {"1.1": "annotator_1 says 1.1"}


def test_skipped_segments_stay_blind(app_db):
    alice = user(app_db, "alice")
    seg = annotate.next_segment_id(app_db, alice)
    add_other_labels(app_db, seg, "annotator_1", {"1.1"})
    store.save_settings(app_db, reveal=True)
    annotate.skip(app_db, alice, seg)
    assert annotate.load_view(app_db, alice, seg).others is None


def test_list_position_follows_claim_order(app_db):
    alice = user(app_db, "alice")
    ids = store.claim(app_db, alice.rater_id, k=2, n=3)
    places = [store.list_position(app_db, alice.rater_id, s) for s in ids]
    assert [p.position for p in places] == [1, 2, 3]
    assert [p.previous_id for p in places] == [None, ids[0], ids[1]]
    assert [p.next_id for p in places] == [ids[1], ids[2], None]
    assert store.list_position(app_db, user(app_db, "bob").rater_id, ids[0]) is None


def test_settings_are_validated(app_db):
    with pytest.raises(store.StoreError, match="k"):
        store.save_settings(app_db, k=0)
    with pytest.raises(store.StoreError, match="unknown"):
        store.save_settings(app_db, colour="red")
    assert store.save_settings(app_db, k=3, reveal=1).k == 3 and store.get_settings(app_db).reveal is True


def test_hand_out_gives_each_pool_member_segments(app_db):
    given = store.assign_to_pool(app_db, 2)
    alice, bob = user(app_db, "alice"), user(app_db, "bob")
    assert given == {alice.rater_id: 2, bob.rater_id: 2}
    assert store.rater_progress(app_db, alice.rater_id).assigned == 2


def test_a_reset_token_ends_the_session(app_db):
    token = store.reset_token(app_db, "alice")
    alice = store.user_for_token(app_db, token)
    assert store.session_user(app_db, alice.id, store.hash_token(token)) == alice
    store.reset_token(app_db, "alice")
    assert store.session_user(app_db, alice.id, store.hash_token(token)) is None


def test_queue_migration_backfills_counters(tmp_path):
    """m003 computes claim counters and statuses from assignments and submissions made before it."""
    from annotator.store.schema import migrations

    path = tmp_path / "old.db"
    db = store.connect(path, migrate=False)
    migrations.apply(db, stop_before="m005_app_queue")
    store.save_taxonomy(db, load_taxonomy("mast"))
    # Rows as the schema before m005 holds them (today's insert_trace writes columns it lacks).
    db.execute("INSERT INTO traces (id, external_id, source, format, content_hash, text, created_at)"
               " VALUES (1, 't', 'test', 'jsonl', 'h', 'A: x\nB: y', '2026-01-01')")
    for idx, (scheme, start, end, queued) in enumerate([("trace", 0, 9, 0), ("turn", 0, 5, 1), ("turn", 5, 9, 1)]):
        db.execute('INSERT INTO segments (trace_id, scheme, idx, kind, start, "end", content_hash, queued)'
                   " VALUES (1, ?, ?, ?, ?, ?, 'h', ?)", [scheme, max(idx - 1, 0), scheme, start, end, queued])
    rater = store.ensure_rater(db, "old", "human")
    seg_ids = [r[0] for r in db.execute("SELECT id FROM segments WHERE queued = 1 ORDER BY id")]
    for s in seg_ids:
        db.execute("INSERT INTO assignments (segment_id, rater_id, assigned_at) VALUES (?, ?, '2026-01-01')", [s, rater])
    tax = store.get_taxonomy(db, "mast")
    store.write_labels(db, store.LabelWrite(seg_ids[0], rater, tax.id, {}, status="skipped"))
    db.conn.commit()
    db = store.connect(path)
    rows = db.execute("SELECT a.status, s.assigned FROM assignments a JOIN segments s ON s.id = a.segment_id"
                      " ORDER BY s.id").fetchall()
    assert rows == [("skipped", 0), ("pending", 1)]


# --------------------------------------------------------------------------------------------------
# Eight annotators at once: no lost label, no duplicate, never "database is locked".

ANNOTATORS = 8



def _crowd_db(tmp_path, k: int = 3):
    path = tmp_path / "crowd.db"
    make_app_db(path, traces=15, turns=4, k=k)  # 60 segments
    db = store.connect(path)
    for i in range(ANNOTATORS):
        store.add_user(db, f"ann{i}", "annotator")
    store.save_settings(db, annotators=[f"ann{i}" for i in range(ANNOTATORS)])
    db.conn.close()
    return path


def _check_crowd(path, k: int) -> None:
    db = store.connect(path)
    per_segment = Counter(r[0] for r in db.execute("SELECT segment_id FROM assignments WHERE status != 'skipped'"))
    assert per_segment and max(per_segment.values()) <= k  # never over k active claims
    queued = db.execute("SELECT COUNT(*) FROM segments WHERE queued = 1").fetchone()[0]
    done = db.execute("SELECT segment_id, rater_id FROM assignments WHERE status = 'done'").fetchall()
    # every segment reached k annotators, except where a skip came after everyone else had finished
    queued_ids = {r[0] for r in db.execute("SELECT id FROM segments WHERE queued = 1")}
    skipped = {r[0] for r in db.execute("SELECT segment_id FROM assignments WHERE status = 'skipped'")}
    short = {seg for seg in queued_ids if per_segment.get(seg, 0) < k}
    assert len(queued_ids) == queued and short <= skipped
    for seg, rater in done:  # every submitted segment has all 14 labels and exactly one submission
        n_labels = db.execute("SELECT COUNT(*) FROM labels WHERE segment_id = ? AND rater_id = ?", [seg, rater]).fetchone()[0]
        n_subs = db.execute("SELECT COUNT(*) FROM submissions WHERE segment_id = ? AND rater_id = ?", [seg, rater]).fetchone()[0]
        assert (n_labels, n_subs) == (14, 1)
    total = db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    assert total == db.execute("SELECT COUNT(*) FROM assignments WHERE status != 'pending'").fetchone()[0]
    db.conn.close()


def test_eight_annotators_in_threads(tmp_path):
    path = _crowd_db(tmp_path)
    errors: list = []
    handled: list[int] = []
    threads = [threading.Thread(target=lambda name: handled.append(annotate_all(str(path), name, errors)),
                                args=(f"ann{i}",)) for i in range(ANNOTATORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not [t for t in threads if t.is_alive()], "an annotator was still working after 120 s"
    assert errors == []
    assert len(handled) == ANNOTATORS and sum(handled) >= 60 * 3
    _check_crowd(path, 3)


def test_eight_annotators_in_processes(tmp_path):
    path = _crowd_db(tmp_path)
    # Separate processes, each with its own connection. A fork server imports the worker's module once and
    # forks each worker from that clean process (no connection of ours inherited): spawning eight fresh
    # interpreters would cost seconds of imports each.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["crowd"])
    with context.Pool(ANNOTATORS) as pool:
        results = pool.map(process_worker, [(str(path), f"ann{i}") for i in range(ANNOTATORS)])
    assert [e for _, errs in results for e in errs] == []
    assert sum(n for n, _ in results) >= 60 * 3
    _check_crowd(path, 3)


def test_a_token_reset_stops_a_submission_already_in_flight(app_db):
    """The page read her session before the reset; the submission that follows must not be stored."""
    token = store.reset_token(app_db, "alice")
    alice = store.session_user(app_db, store.user_for_token(app_db, token).id, store.hash_token(token))
    seg = annotate.next_segment_id(app_db, alice)
    store.reset_token(app_db, "alice")  # the lead resets her token while her Submit is on its way
    with pytest.raises(AnnotateError, match="session ended"):
        annotate.submit(app_db, alice, seg, Choice(frozenset({"1.1"})))
    with pytest.raises(AnnotateError, match="session ended"):
        annotate.skip(app_db, alice, seg)
    assert app_db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    assert app_db.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 0
