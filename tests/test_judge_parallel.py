"""`judge run --processes N`: one run's calls shared by N processes, against the local server (real HTTP).

Every wait is on state: the server holds its answers (its gate) until the test has seen what it waits for
(the judge processes running, a stop asked), and the test reads the processes from /proc.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers import run_cli, wait_until
from judge_helpers import MODEL, fast_options, make_judge_db

from annotator import store
from annotator.judge import JudgeOptions, parallel, run_judge, run_progress, start_run_thread, stop_run, wait_run
from annotator.judge.runner import RunStats

TEXTS = [f"item {i} [[present:1.{1 + i % 5}]]" if i % 3 == 0 else f"item {i}" for i in range(40)]
ITEM = re.compile(r"\bitem (\d+)\b")


def judge_processes() -> list[int]:
    """Pids of this process's children started by multiprocessing's spawn (the judge's processes)."""
    pids = []
    for task in Path("/proc/self/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # the thread ended since the listing
            continue
        for pid in children:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except FileNotFoundError:
                continue
            if any(b"spawn_main" in part for part in command):  # not its resource tracker
                pids.append(int(pid))
    return pids


class HoldUntil:
    """A server gate: every request waits until `open` is set, then is answered as usual."""

    def __init__(self):
        self.open, self.waiting, self.lock = threading.Event(), 0, threading.Lock()

    def __call__(self, _body):
        with self.lock:
            self.waiting += 1
        self.open.wait(60)
        return None


def stored_labels(db_path: Path, segment_ids: list[int]) -> dict[int, set[str]]:
    """Per segment, the codes the judge marked present (read with SQL, not through the code under test)."""
    db = store.connect(db_path)
    try:
        rows = db.execute("SELECT l.segment_id, m.code FROM labels l JOIN modes m ON m.id = l.mode_id"
                          " JOIN raters r ON r.id = l.rater_id WHERE r.kind = 'judge' AND l.value = 1").fetchall()
    finally:
        db.conn.close()
    present = {segment: set() for segment in segment_ids}
    for segment, code in rows:
        present[segment].add(code)
    return present


def test_two_processes_share_the_run_and_call_every_segment_once(llm_server, tmp_path):
    db_path = tmp_path / "p.db"
    db, ids = make_judge_db(db_path, TEXTS)
    db.conn.close()
    gate = llm_server.gate = HoldUntil()
    options = fast_options(llm_server, concurrency=6, processes=2, timeout=30.0)
    run_id = start_run_thread(db_path, options)
    # both processes are up and calling: 6 requests held at the server, from 2 processes
    wait_until(lambda: gate.waiting, until=lambda n: n == 6, timeout=120, what="six calls held at the server")
    assert len(judge_processes()) == 2 and llm_server.max_in_flight == 6
    gate.open.set()
    assert wait_run(run_id, timeout=120)
    db = store.connect(db_path)
    progress = run_progress(db, run_id)
    db.conn.close()
    assert (progress["status"], progress["done"], progress["failed"]) == ("done", 40, 0), progress
    assert llm_server.count == 40 and llm_server.max_in_flight <= 6  # each segment once; never over the slots
    items = Counter(int(n) for body in llm_server.requests for m in body["messages"]
                    for n in ITEM.findall(str(m["content"])))
    assert items == Counter(range(40))
    wanted = {segment: ({f"1.{1 + i % 5}"} if i % 3 == 0 else set()) for i, segment in enumerate(ids)}
    assert stored_labels(db_path, ids) == wanted
    wait_until(judge_processes, until=lambda pids: not pids, timeout=60, what="the judge processes gone")


class StaggeredThenLimited:
    """A gate that holds the first request of each of two processes until both wait, lets them go `GAP` s apart
    (each is then answered after its segment's latency), then acts as a proxy's limiter: the next request opens
    a window of `WINDOW` s in which every request is refused 429 with a Retry-After of `RETRY_AFTER` s, and
    recorded. The process that is not told still has its call in flight then, answered `GAP` s into the window:
    the time the told process has to pass the word on, ample even on a loaded machine."""

    GAP, WINDOW, RETRY_AFTER = 1.0, 2.5, 3

    def __init__(self):
        self.lock, self.both = threading.Lock(), threading.Event()
        self.held, self.released, self.opened = 0, None, None
        self.rejected: list[float] = []

    def __call__(self, _body):
        with self.lock:
            first_two = self.held < 2
            if first_two:
                self.held += 1
                order = self.held
                if order == 2:
                    self.both.set()
        if first_two:
            self.both.wait(120)
            with self.lock:
                self.released = self.released or time.monotonic()
                release = self.released + self.GAP * (order - 1)
            time.sleep(max(0.0, release - time.monotonic()))  # the segment's own latency comes after
            return None
        with self.lock:
            now = time.monotonic()
            self.opened = self.opened or now
            if now >= self.opened + self.WINDOW:
                return None
            self.rejected.append(now)
        return 429, {"error": {"message": "rate limited", "code": "429"}}, {"Retry-After": str(self.RETRY_AFTER)}


def test_a_retry_after_told_to_one_process_holds_the_other(llm_server, tmp_path):
    segments = 2 * parallel.BUCKET_JOBS  # two buckets: work for both processes
    db, _ = make_judge_db(tmp_path / "r.db", [f"item {i} [[latency:0.3]]" for i in range(segments)])
    gate = llm_server.gate = StaggeredThenLimited()
    # a long timeout: the first process's call is held while the second process starts (litellm's import)
    result = run_judge(db, fast_options(llm_server, concurrency=2, processes=2, timeout=150.0, max_attempts=4))
    assert (result.status, result.stats.done) == ("done", segments), result
    assert len(gate.rejected) == 1, [t - gate.opened for t in gate.rejected]  # only the call that opened it
    into_window = [t - gate.opened for t in llm_server.arrivals if gate.opened + 0.1 < t < gate.opened + gate.WINDOW]
    assert not into_window, into_window  # the other process's next call, due GAP s in, waited too


def test_a_second_run_with_processes_makes_no_call(llm_server, tmp_path):
    db, ids = make_judge_db(tmp_path / "c.db", TEXTS[:12])
    first = run_judge(db, fast_options(llm_server, concurrency=4, processes=2, timeout=30.0))
    assert (first.status, first.stats.done) == ("done", 12)
    again = run_judge(db, fast_options(llm_server, concurrency=4, processes=2, timeout=30.0))
    assert (again.status, again.stats.cached, again.stats.done) == ("done", 12, 0) and llm_server.count == 12
    db.conn.close()


def test_a_stop_reaches_every_process(llm_server, tmp_path):
    db_path = tmp_path / "s.db"
    make_judge_db(db_path, TEXTS)[0].conn.close()
    gate = llm_server.gate = HoldUntil()
    run_id = start_run_thread(db_path, fast_options(llm_server, concurrency=4, processes=2, timeout=30.0))
    wait_until(lambda: gate.waiting, until=lambda n: n == 4, timeout=120, what="four calls held at the server")
    assert stop_run(run_id)
    assert wait_run(run_id, timeout=90)
    gate.open.set()
    db = store.connect(db_path)
    progress = run_progress(db, run_id)
    db.conn.close()
    assert progress["status"] == "stopped" and progress["done"] == 0, progress
    wait_until(judge_processes, until=lambda pids: not pids, timeout=60, what="the judge processes gone")
    assert llm_server.count == 4  # nothing was called after the stop


def test_an_error_every_call_meets_stops_every_process(llm_server, tmp_path):
    db, _ = make_judge_db(tmp_path / "f.db", [f"item {i} [[scenario:auth]]" for i in range(30)])
    result = run_judge(db, fast_options(llm_server, concurrency=4, processes=2, timeout=30.0))
    db.conn.close()
    assert result.status == "error" and "every call would fail alike" in result.error, result
    assert llm_server.count <= 2 * 4  # each process stops at its first answers, not after 30 calls


def test_processes_on_the_command_line(llm_server, tmp_path):
    db_path = tmp_path / "cli.db"
    make_judge_db(db_path, TEXTS[:8])[0].conn.close()
    base = ("judge", "run", "--model", MODEL, "--api-base", llm_server.base_url, "--concurrency", "4")
    batch = run_cli(*base, "--processes", "2", "--batch", db=db_path)
    assert batch.exit_code != 0 and "--processes applies to live runs" in batch.stderr
    zero = run_cli(*base, "--processes", "0", db=db_path)
    assert zero.exit_code != 0 and "--processes" in zero.stderr and llm_server.count == 0
    ran = run_cli(*base, "--processes", "2", db=db_path)
    assert ran.exit_code == 0, ran.output
    assert "8 judged, 0 cached, 0 failed of 8" in ran.stdout and llm_server.count == 8


@pytest.mark.parametrize("buckets", [2, 3, 7, 250])
def test_buckets_are_stable_and_even(buckets):
    rng = random.Random(buckets)
    keys = [f"{rng.getrandbits(256):064x}" for _ in range(7000)]
    counts = Counter(parallel.bucket(key, buckets) for key in keys)
    assert set(counts) <= set(range(buckets))
    # another interpreter, with another string-hash salt, puts the keys in the same buckets
    code = f"import sys; from annotator.judge import parallel; print([parallel.bucket(k, {buckets}) for k in sys.argv[1:]])"
    elsewhere = subprocess.run([sys.executable, "-c", code, *keys[:50]], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONHASHSEED": str(buckets)})
    assert elsewhere.stdout.strip() == str([parallel.bucket(k, buckets) for k in keys[:50]])
    expected = len(keys) / buckets
    assert all(abs(counts[b] - expected) < 5 * expected ** 0.5 + 1 for b in range(buckets)), counts


class _Job:
    def __init__(self, n: int):
        self.n, self.cache_key = n, hashlib.sha256(str(n).encode()).hexdigest()


def test_claimed_buckets_share_every_job_once_even_when_plans_differ():
    """Two processes' feeds over one counter: every job is called once, by whichever claims its bucket, and a
    process that planned after the other had answered some jobs (so they are missing from its plan) still
    takes the rest of their buckets."""
    jobs = [_Job(n) for n in range(1000)]
    buckets = parallel.buckets_for(len(jobs))
    claimed = multiprocessing.get_context("spawn").Value("q", 0)
    first = parallel.claimed_jobs(jobs, buckets, claimed)
    early = [next(first) for _ in range(100)]  # the first process's calls before the second planned
    late_plan = [job for job in jobs if job not in early]
    second = parallel.claimed_jobs(late_plan, buckets, claimed)
    taken = {0: early, 1: []}
    feeds = {0: first, 1: second}
    rng = random.Random(7)
    while feeds:  # the two ask for work in a random interleaving, as their slots free up
        index = rng.choice(sorted(feeds))
        job = next(feeds[index], None)
        if job is None:
            del feeds[index]
        else:
            taken[index].append(job)
    called = Counter(job.n for calls in taken.values() for job in calls)
    assert called == Counter(range(1000))
    assert len(taken[1]) > 300  # the second process took a real part, not only what was left at the end
    assert claimed.value >= buckets


@pytest.mark.parametrize(("concurrency", "shares"), [(64, 2), (64, 3), (5, 4), (7, 7)])
def test_slots_split_evenly_and_add_up(concurrency, shares):
    slots = parallel.split_slots(concurrency, shares)
    assert sum(slots) == concurrency and max(slots) - min(slots) <= 1 and len(slots) == shares


def test_mock_responses_cannot_cross_to_other_processes(llm_server):
    from annotator.core.errors import OptionError

    with pytest.raises(OptionError, match="--processes"):
        fast_options(llm_server, processes=2, mock_responses={1: "{}"}).check()


def test_a_users_error_in_a_judge_process_comes_back_as_one_line_not_as_a_bug(tmp_path):
    """A process that meets the user's error (here: its database is gone) tells the parent so, without a
    traceback, and the run then fails as a one-process run would: with that line, exit 1."""
    context = multiprocessing.get_context("spawn")
    halt, updates, claimed, hold = context.Event(), context.Queue(), context.Value("q", 0), context.Value("d", 0.0)
    missing = tmp_path / "gone.db"
    parallel._process(str(missing), 1, 1, JudgeOptions(model=MODEL), 0, 4, claimed, hold, halt, updates)
    index, kind, body = updates.get(timeout=10)
    assert (index, kind) == (0, "refused") and "traceback" not in body
    assert str(missing) in body["error"] and "\n" not in body["error"] and halt.is_set()
    sums = parallel._Sums(RunStats(), 1)
    sums.take(index, kind, body)
    assert sums.ending.refused == body["error"] and sums.ending.crash is None and sums.ended == {0}
