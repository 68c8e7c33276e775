"""Sixteen annotators at once against the database of a running app server: k means k under load.

Builds a database as a new user would (`annotator init`, `annotator import --segment turn` of generated traces,
16 annotator accounts, k = 3), starts the real app server on it (`annotator serve`, health-checked), and lets
16 annotators work at the same time through the service layer, as the Annotate page does on every run: open
a connection, submit (or skip), find her next segment (claiming one if needed), load it. About one segment in
eight is skipped; after her next submission she goes back to it (Previous) and tries to label it, which must
be refused once the segment went to k others. Each annotator stops after --submissions accepted submissions.

Reports, from the database afterwards:
- lost: submissions the service accepted that have no submission row, or fewer than all 14 labels;
- duplicated: (segment, annotator) pairs with more submission rows than she made;
- over-k: segments with more than k annotators' submissions;
- submit -> next ready: p50 / p95 / max of one submit plus loading her next segment (the page's work).

Run: nice python benchmarks/bench_load.py [--annotators 16] [--submissions 500] [--k 3] [--processes]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from annotator import store  # noqa: E402
from annotator.services import annotate  # noqa: E402
from annotator.services.annotate import AnnotateError, Choice  # noqa: E402

TURNS = 9  # turns per trace: one segment each
SKIP_EVERY = 8  # about one segment in eight is skipped, then retried through Previous
CODES = ("1.1", "1.2", "2.3", "3.2", "3.3")


def _annotator_cmd(*args: str, db: Path) -> list[str]:
    """The installed console script beside this interpreter, as a user runs it."""
    return [str(Path(sys.executable).parent / "annotator"), "--db", str(db), *args]


def build(db: Path, *, annotators: int, submissions: int, k: int) -> int:
    """A database with enough turn segments for every annotator's submissions at k; returns the segment count."""
    segments = -(-annotators * submissions // k) * 11 // 10  # 10% spare: skips and Previous refusals
    traces = -(-segments // TURNS)
    folder = db.parent
    rows = [{"id": f"load-{t}", "messages": [{"role": "assistant", "name": ("Planner", "Coder", "Reviewer")[i % 3],
                                               "content": f"Trace {t}, turn {i}: step {i} of the plan."}
                                              for i in range(TURNS)]} for t in range(traces)]
    (folder / "traces.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    subprocess.run(_annotator_cmd("init", db=db), check=True, capture_output=True)
    subprocess.run(_annotator_cmd("import", str(folder / "traces.jsonl"), "--segment", "turn", db=db),
                   check=True, capture_output=True)
    conn = store.connect(db)
    names = [f"ann{i}" for i in range(annotators)]
    for name in names:
        store.add_user(conn, name, "annotator")
    store.save_settings(conn, k=k, annotators=names)
    count = conn.execute("SELECT COUNT(*) FROM segments WHERE scheme LIKE 'turn%'").fetchone()[0]
    conn.conn.close()
    return count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path) -> tuple[subprocess.Popen, int]:
    """`annotator serve` on the database, in its own process group; returns once its health check answers."""
    port = _free_port()
    proc = subprocess.Popen(_annotator_cmd("serve", "--port", str(port), db=db), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return proc, port
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {proc.stdout.read().decode()[-2000:]}") from None
        time.sleep(0.2)  # poll interval while the server starts
    raise RuntimeError("the server did not answer its health check within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(30)


def work(db_file: str, name: str, seed: int, submissions: int) -> dict:
    """One annotator: what the Annotate page does per run, with a fresh connection each time."""
    rng = random.Random(seed)
    made: Counter = Counter()  # (segment) -> accepted submissions
    latencies: list[float] = []
    refused = 0
    errors: list[str] = []
    skipped: list[int] = []
    conn = store.connect(db_file, migrate=False)
    me = next(u for u in store.list_users(conn) if u.name == name)
    conn.conn.close()
    view_id = None
    try:
        while sum(made.values()) < submissions:
            started = time.perf_counter()
            conn = store.connect(db_file, migrate=False)  # one connection per page run, as the app does
            try:
                seg = view_id if view_id is not None else annotate.next_segment_id(conn, me)
                if seg is None:
                    break
                submitted = rng.randrange(SKIP_EVERY) != 0 or bool(skipped)
                if submitted:
                    annotate.submit(conn, me, seg, Choice(frozenset(rng.sample(CODES, rng.randint(1, 2)))))
                    made[seg] += 1
                else:
                    annotate.skip(conn, me, seg)
                    skipped.append(seg)
                view = annotate.load_view(conn, me)
                view_id = view.segment.id if view is not None else None
                if submitted:  # timed: what she waits for between pressing Submit and her next segment
                    latencies.append((time.perf_counter() - started) * 1000)
                if submitted and skipped:  # Previous: back to the skipped one; refused once it went to k others
                    back = skipped.pop()
                    annotate.load_view(conn, me, back)
                    try:
                        annotate.submit(conn, me, back, Choice(frozenset({"2.1"})))
                        made[back] += 1
                    except AnnotateError:
                        refused += 1
            finally:
                conn.conn.close()
            if view_id is None:
                break
    except Exception as exc:  # noqa: BLE001 - counted and shown in the report
        errors.append(f"{name}: {exc!r}")
    return {"name": name, "rater_id": me.rater_id, "made": dict(made), "latencies": latencies,
            "refused": refused, "errors": errors}


def _process_worker(args: tuple) -> dict:
    return work(*args)


def check(db: Path, results: list[dict], k: int) -> dict:
    """Lost, duplicated and over-k, read from the database against what each annotator was told."""
    conn = store.connect(db, migrate=False)
    subs = Counter((r[0], r[1]) for r in conn.execute("SELECT segment_id, rater_id FROM submissions "
                                                      "WHERE status IN ('done', 'unsure')"))
    labels = Counter((r[0], r[1]) for r in conn.execute(
        "SELECT l.segment_id, l.rater_id FROM labels l JOIN raters r ON r.id = l.rater_id WHERE r.kind = 'human'"))
    modes = conn.execute("SELECT COUNT(*) FROM modes m JOIN taxonomies t ON t.id = m.taxonomy_id").fetchone()[0]
    per_segment = Counter(r[0] for r in conn.execute(
        "SELECT segment_id FROM assignments WHERE status IN ('done', 'unsure')"))
    conn.conn.close()
    lost = duplicated = 0
    for result in results:
        for seg, times in result["made"].items():
            key = (int(seg), result["rater_id"])
            lost += subs[key] < times or labels[key] < modes
            duplicated += subs[key] > times
    return {"lost": lost, "duplicated": duplicated, "over_k": sum(1 for n in per_segment.values() if n > k),
            "max_per_segment": max(per_segment.values(), default=0)}


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    db = folder / "load.db"
    try:
        segments = build(db, annotators=args.annotators, submissions=args.submissions, k=args.k)
        server, port = start_server(db)
        try:
            jobs = [(str(db), f"ann{i}", i, args.submissions) for i in range(args.annotators)]
            started = time.perf_counter()
            if args.processes:
                with multiprocessing.get_context("spawn").Pool(args.annotators) as pool:
                    results = pool.map(_process_worker, jobs)
            else:
                results = []
                threads = [threading.Thread(target=lambda job: results.append(work(*job)), args=(job,))
                           for job in jobs]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            wall = time.perf_counter() - started
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as answer:
                server_ok = answer.status == 200
        finally:
            stop_server(server)
        verdict = check(db, results, args.k)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    latencies = sorted(x for r in results for x in r["latencies"])
    accepted = sum(sum(r["made"].values()) for r in results)
    return {
        "machine": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "annotators": args.annotators, "k": args.k, "segments": segments,
        "workers": "processes" if args.processes else "threads",
        "accepted_submissions": accepted, "refused_previous": sum(r["refused"] for r in results),
        "errors": [e for r in results for e in r["errors"]], "server_healthy_after": server_ok,
        **verdict,
        "submit_to_next_ms": {"p50": round(statistics.median(latencies), 1),
                              "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                              "max": round(latencies[-1], 1)},
        "wall_s": round(wall, 1), "submissions_per_s": round(accepted / wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=16)
    parser.add_argument("--submissions", type=int, default=500, help="accepted submissions per annotator")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--processes", action="store_true", help="one process per annotator instead of threads")
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
