"""k means k: a skipped segment taken back only while it has room, claim leases, and sixteen annotators at
once (threads, one real SQLite file) who skip and come back through Previous, never more than k labels."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from app_helpers import make_app_db

from annotator import store
from annotator.services import annotate
from annotator.services.annotate import AnnotateError, Choice

pytestmark = pytest.mark.app_db(traces=4, turns=3, k=1)


def user(db, name):
    return next(u for u in store.list_users(db) if u.name == name)


def backdate(db, rater_id: int, minutes: float) -> None:
    """Make every claim and submission of a rater `minutes` older (as if she had stopped working then)."""
    stamp = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat(timespec="microseconds")
    with store.write(db):
        db.execute("UPDATE assignments SET assigned_at = ? WHERE rater_id = ?", [stamp, rater_id])
        db.execute("UPDATE submissions SET created_at = ? WHERE rater_id = ?", [stamp, rater_id])


def test_a_skipped_segment_that_went_to_someone_else_is_refused(app_db):
    alice, bob = user(app_db, "alice"), user(app_db, "bob")
    seg = annotate.next_segment_id(app_db, alice)
    annotate.skip(app_db, alice, seg)
    assert annotate.next_segment_id(app_db, bob) == seg  # k = 1: bob holds it now
    view = annotate.load_view(app_db, alice, seg)  # she comes back through Previous
    assert view.status == "skipped" and view.full is True
    with pytest.raises(AnnotateError, match="went to other annotators after you skipped it"):
        annotate.submit(app_db, alice, seg, Choice(frozenset({"3.1"})))
    assert store.assignment_status(app_db, alice.rater_id, seg) == "skipped"  # nothing written
    assert app_db.execute("SELECT assigned FROM segments WHERE id = ?", [seg]).fetchone()[0] == 1
    assert app_db.execute("SELECT COUNT(*) FROM labels WHERE segment_id = ? AND rater_id = ? AND value = 1",
                          [seg, alice.rater_id]).fetchone()[0] == 0


def test_a_skipped_segment_with_room_can_still_be_taken_back(app_db):
    alice = user(app_db, "alice")
    seg = annotate.next_segment_id(app_db, alice)
    annotate.skip(app_db, alice, seg)
    assert annotate.load_view(app_db, alice, seg).full is False
    annotate.submit(app_db, alice, seg, Choice(frozenset({"3.1"})))
    assert store.assignment_status(app_db, alice.rater_id, seg) == "done"
    assert app_db.execute("SELECT assigned FROM segments WHERE id = ?", [seg]).fetchone()[0] == 1


def test_claims_of_an_idle_annotator_expire_after_the_lease(app_db):
    store.save_settings(app_db, lease_minutes=30)
    alice, bob = user(app_db, "alice"), user(app_db, "bob")
    seg = annotate.next_segment_id(app_db, alice)
    assert annotate.next_segment_id(app_db, bob) != seg  # k = 1: she holds it
    annotate.submit(app_db, bob, annotate.next_segment_id(app_db, bob), Choice(frozenset({"1.1"})))
    backdate(app_db, alice.rater_id, 20)
    assert annotate.next_segment_id(app_db, bob) != seg  # within the lease: still hers
    backdate(app_db, alice.rater_id, 31)
    (holder,) = [h for h in store.claim_holders(app_db, 30) if h["name"] == "alice"]
    assert holder["claims"] == 1 and holder["expires_at"] < datetime.now(UTC).isoformat()
    annotate.submit(app_db, bob, annotate.next_segment_id(app_db, bob), Choice(frozenset({"1.1"})))
    assert annotate.next_segment_id(app_db, bob) == seg  # released to the next claim
    assert store.assignment_status(app_db, alice.rater_id, seg) is None
    with pytest.raises(AnnotateError, match="lease"):
        annotate.submit(app_db, alice, seg, Choice(frozenset({"1.1"})))


def test_no_lease_means_claims_never_expire(app_db):
    store.save_settings(app_db, lease_minutes=None)
    alice = user(app_db, "alice")
    seg = annotate.next_segment_id(app_db, alice)
    backdate(app_db, alice.rater_id, 60 * 24 * 365)
    assert store.release_expired(app_db, store.get_settings(app_db).lease_minutes) == 0
    assert store.assignment_status(app_db, alice.rater_id, seg) == "pending"
    assert store.claim_holders(app_db, None)[0]["expires_at"] is None


def test_release_one_annotators_claims_keeps_what_she_submitted(app_db):
    alice = user(app_db, "alice")
    store.save_settings(app_db, k=2)
    claimed = store.claim(app_db, alice.rater_id, k=2, n=3)
    annotate.submit(app_db, alice, claimed[0], Choice(frozenset({"1.1"})))
    assert store.release_claims(app_db, alice.rater_id) == 2
    assert store.assignment_status(app_db, alice.rater_id, claimed[0]) == "done"
    held = dict(app_db.execute("SELECT id, assigned FROM segments WHERE id IN (?, ?, ?)", claimed).fetchall())
    assert held == {claimed[0]: 1, claimed[1]: 0, claimed[2]: 0}


@pytest.mark.parametrize("lease", [0, -5, "10", True, 10**9])
def test_lease_setting_is_validated(app_db, lease):
    with pytest.raises(store.StoreError, match="lease_minutes"):
        store.save_settings(app_db, lease_minutes=lease)


# --------------------------------------------------------------------------------------------------
# Sixteen annotators at once

CROWD, K = 16, 3


def _annotator(path: str, name: str, seed: int, errors: list, refused: list) -> None:
    """Skip about one segment in three; after each submission, come back to a skipped one (Previous) and try
    to label it. A refusal because the segment filled up meanwhile is the expected answer."""
    db = store.connect(path, migrate=False)
    rng = random.Random(seed)
    skipped: list[int] = []
    try:
        me = user(db, name)
        while (seg := annotate.next_segment_id(db, me)) is not None:
            if rng.random() < 0.35:
                annotate.skip(db, me, seg)
                skipped.append(seg)
                continue
            annotate.submit(db, me, seg, Choice(frozenset({"1.1"})))
            if skipped:
                back = skipped.pop(0)
                annotate.load_view(db, me, back)
                try:
                    annotate.submit(db, me, back, Choice(frozenset({"2.1"})))
                except AnnotateError as exc:
                    refused.append(str(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any
        errors.append(f"{name}: {exc!r}")
    finally:
        db.conn.close()


def test_sixteen_annotators_who_skip_and_come_back_never_exceed_k(tmp_path):
    path = tmp_path / "crowd.db"
    make_app_db(path, traces=20, turns=4, k=K)  # 80 segments
    db = store.connect(path)
    names = [f"ann{i}" for i in range(CROWD)]
    for name in names:
        store.add_user(db, name, "annotator")
    store.save_settings(db, annotators=names)
    errors: list = []
    refused: list = []
    threads = [threading.Thread(target=_annotator, args=(str(path), name, i, errors, refused))
               for i, name in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not [t for t in threads if t.is_alive()], "an annotator was still working after 300 s"
    assert errors == []
    humans = Counter(r[0] for r in db.execute(
        "SELECT DISTINCT l.segment_id, l.rater_id FROM labels l JOIN raters r ON r.id = l.rater_id"
        " WHERE r.kind = 'human' AND l.value = 1"))
    assert humans and max(humans.values()) <= K, humans.most_common(3)
    submitted = Counter(r[0] for r in db.execute(
        "SELECT segment_id FROM assignments WHERE status IN ('done', 'unsure')"))
    assert max(submitted.values()) <= K
    counters = dict(db.execute("SELECT id, assigned FROM segments WHERE queued = 1").fetchall())
    active = Counter(r[0] for r in db.execute("SELECT segment_id FROM assignments WHERE status != 'skipped'"))
    assert all(counters[s] == active.get(s, 0) for s in counters)  # the counter matches the claims
    assert refused, "no annotator came back to a segment that had filled up: the test proves nothing"
    db.conn.close()


# --------------------------------------------------------------------------------------------------
# In the app: the refusal on the Annotate page, claims and their release on the Data page

def test_annotate_page_says_a_skipped_segment_is_full_and_offers_no_submit(app_tokens, app_db):
    from app_helpers import button, signed_in

    alice, bob = user(app_db, "alice"), user(app_db, "bob")
    at = signed_in(app_tokens["alice"])
    seg = at.session_state["ann_current"]
    button(at, "Skip").click().run()
    assert annotate.next_segment_id(app_db, bob) == seg  # k = 1: it went to bob
    at.session_state["ann_current"] = seg  # Previous
    at.run()
    assert any("it can no longer take your labels" in w.value for w in at.warning)
    assert not [b for b in at.button if b.label in ("Submit", "Update labels")]
    assert store.assignment_status(app_db, alice.rater_id, seg) == "skipped"


def test_data_page_shows_claims_and_releases_one_annotators(app_tokens, app_db):
    from app_helpers import signed_in, texts

    alice = user(app_db, "alice")
    store.save_settings(app_db, k=2)
    store.claim(app_db, alice.rater_id, k=2, n=3)
    at = signed_in(app_tokens["lead"], "views/data.py")
    assert "alice: 3 segments not yet submitted" in texts(at) and "240 minutes" in texts(at)
    at.button(key=f"data_release_{alice.rater_id}").click().run()
    assert not at.exception
    assert "Released 3 claims of alice." in texts(at)
    assert store.rater_progress(app_db, alice.rater_id).assigned == 0
    at.toggle(key="data_no_lease").set_value(True)
    next(b for b in at.button if b.label == "Save settings").click().run()
    assert store.get_settings(app_db).lease_minutes is None
