"""The judge at scale (issue 14): busy slots at concurrency 64 and memory over a 20,000-segment run.

    python benchmarks/bench_judge_scale.py [--segments 20000] [--ab-segments 2000] [--rounds 3] [--processes 2]
                                           [--before /tmp/before]

The local OpenAI-compatible test server (tests/llm_server.py) runs in its own process and answers each
call after a latency drawn uniform in [0.25, 0.75] s. Busy slots are measured on the server's side: it
logs every change of its in-flight count, and the busy-slot fraction is the time integral of that count
over the window from the first request's arrival to the last one's (after the last arrival no job waits,
so slots empty by design), divided by concurrency x the window's length. The client's memory (RSS, from
/proc/self/status) is sampled every 0.5 s from a thread while the run goes.

Each measurement runs the judge in a fresh client process (`--client`) with the code of a given checkout on
PYTHONPATH, so `--before DIR` (e.g. `git archive main | tar -x -C /tmp/before`) measures the previous code
in the same go, on the same server and the same number of segments, as the baseline. The short runs compare
the previous code (one process, and `--processes` processes where it has them), this code in one process and
this code in `--processes` processes, in `--rounds` rounds, each round in another order, and the medians are
compared: this machine's speed drifts by a factor of two within minutes, so one run of each says little.
With processes, calls/s is given over the wall time (their start included) and over the window of arrivals.

Prints figures; writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = "openai/test-model"


def rss_mb(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:  # the process has just ended
        return 0.0
    return 0.0


def tree_rss_mb() -> float:
    """RSS of this process and its children (the judge's processes with --processes)."""
    children = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            children += (task / "children").read_text().split()
    return rss_mb() + sum(rss_mb(pid) for pid in children)


class RssSampler(threading.Thread):
    def __init__(self, every_s: float = 0.5):
        super().__init__(daemon=True)
        self.every_s, self.samples, self.done = every_s, [], threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            self.samples.append((time.monotonic(), tree_rss_mb()))


def client(segments: int, concurrency: int, processes: int, base_url: str) -> dict:
    """One judge run from this process (and its judge processes); the figures as a JSON-able dict."""
    import gc

    sys.path.insert(0, str(REPO / "tests"))
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    from judge_helpers import make_judge_db

    import annotator
    from annotator.judge import JudgeOptions
    from annotator.judge.service import create_run, execute_run

    def run(db, options):
        began, cpu = time.perf_counter(), _cpu_s()
        result = execute_run(db, create_run(db, options), options)
        return result.stats, time.perf_counter() - began, _cpu_s() - cpu

    with tempfile.TemporaryDirectory() as tmp:
        split = {"processes": processes} if processes > 1 else {}  # code before --processes has no such option
        options = JudgeOptions(model=MODEL, api_base=base_url, concurrency=concurrency, timeout=60)
        db, _ = make_judge_db(Path(tmp) / "warm.db", [f"warm up {i} [[latency:0]]" for i in range(256)])
        run(db, options)  # litellm's first calls are slow: measure the steady state (judge processes start cold)
        options = dataclasses.replace(options, **split)
        texts = [f"Agent {i % 7}: a turn to judge, segment {i}, with some words of content." for i in range(segments)]
        db, _ = make_judge_db(Path(tmp) / "run.db", texts)
        gc.collect()
        sampler = RssSampler()
        start_rss = tree_rss_mb()
        sampler.start()
        stats, wall, cpu = run(db, options)
        sampler.done.set()
        sampler.join()
        end_rss = tree_rss_mb()
    rss = [mb for _, mb in sampler.samples]
    return {"code": str(Path(annotator.__file__).parent.parent), "segments": segments, "concurrency": concurrency,
            "processes": processes, "done": stats.done, "failed": stats.failed, "wall_s": wall,
            "cpu_ms_per_call": cpu / segments * 1000, "client_slot_occupancy": stats.slot_occupancy(),
            "rss_start_mb": start_rss, "rss_peak_mb": max(rss + [start_rss, end_rss]), "rss_end_mb": end_rss,
            "rss_samples": [round(mb, 1) for mb in rss],
            "rss_quartiles_mb": [round(rss[int(q * (len(rss) - 1))], 1) for q in (0.25, 0.5, 0.75)] if rss else []}


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (the judge's processes)."""
    own, children = os.times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.user + own.system + children.ru_utime + children.ru_stime


def busy_fraction(stats: dict, concurrency: int) -> dict:
    """From the server's timeline: busy slots from the first to the last arrival, and their mean."""
    arrivals, timeline = stats["arrivals"], stats["timeline"]
    start, end = min(arrivals), max(arrivals)
    busy, last_t, level = 0.0, start, 0
    for t, in_flight in sorted(timeline):
        if t > start:
            busy += level * (min(t, end) - last_t)
            last_t = min(t, end)
        level = in_flight
        if t >= end:
            break
    return {"requests": len(arrivals), "window_s": end - start, "busy_fraction": busy / (concurrency * (end - start)),
            "mean_in_flight": busy / (end - start), "max_in_flight": stats["max_in_flight"]}


def server_stats(base_url: str) -> dict:
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/_stats", timeout=60) as response:
        return json.loads(response.read())


def measure(code: Path, segments: int, concurrency: int, processes: int, base_url: str) -> dict:
    server_stats(base_url)  # forget the warm-up of an earlier client
    # -S: no site-packages .pth files, so the editable install's finder cannot put this checkout before `code`
    site_packages = [p for p in sys.path if p.endswith("site-packages")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(REPO / "tests"), *site_packages])}
    out = subprocess.run([sys.executable, "-S", __file__, "--client", "--segments", str(segments), "--concurrency",
                          str(concurrency), "--processes", str(processes), "--base-url", base_url], env=env,
                         capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    result = json.loads(out.stdout.strip().splitlines()[-1])
    stats = server_stats(base_url)
    stats["arrivals"] = stats["arrivals"][-segments:]  # the run's calls, not the client's warm-up
    first = min(stats["arrivals"])
    stats["timeline"] = [(t, n) for t, n in stats["timeline"] if t >= first]
    result.update(busy_fraction(stats, concurrency))
    return result


def show(name: str, r: dict) -> None:
    print(f"  {name}: {r['done']} done, {r['failed']} failed; wall {r['wall_s']:.1f} s, "
          f"{r['done'] / r['wall_s']:.1f} calls/s ({r['requests'] / r['window_s']:.1f} in the window); "
          f"server-side busy slots {r['busy_fraction']:.1%} "
          f"(mean {r['mean_in_flight']:.1f} of {r['concurrency']} in flight, max {r['max_in_flight']}, "
          f"{r['processes']} process{'es' if r['processes'] > 1 else ''}) over "
          f"{r['window_s']:.1f} s; client CPU {r['cpu_ms_per_call']:.2f} ms/call; RSS start/peak/end "
          f"{r['rss_start_mb']:.0f}/{r['rss_peak_mb']:.0f}/{r['rss_end_mb']:.0f} MB "
          f"(quartiles of the samples {r['rss_quartiles_mb']})  [{r['code']}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=20_000)
    parser.add_argument("--ab-segments", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the short runs (medians compared)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2, help="judge processes of the runs of this code")
    parser.add_argument("--before", type=Path, default=None, help="a checkout of the previous code (baseline)")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(client(args.segments, args.concurrency, args.processes, args.base_url)))
        return
    print(f"judge at scale, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}")
    server = subprocess.Popen([sys.executable, str(REPO / "tests" / "llm_server.py"), "--port", "0", "--codes",
                               ",".join(_codes()), "--latency", "0.25:0.75"], stdout=subprocess.PIPE, text=True)
    base_url = server.stdout.readline().strip()
    try:
        if args.before is not None:
            compare(args, base_url)
        print(f"\n(2) {args.segments} segments at concurrency {args.concurrency}, this code")
        result = measure(REPO, args.segments, args.concurrency, args.processes, base_url)
        show("after ", result)
        print(f"    RSS samples (MB, every 0.5 s, every 20th): {result['rss_samples'][::20]}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


def compare(args, base_url: str) -> None:
    """The short runs: previous code, this code in 1 process and in N, in rotating order; medians compared."""
    configs = [("previous code, 1 process", args.before, 1), ("this code, 1 process", REPO, 1),
               (f"this code, {args.processes} processes", REPO, args.processes)]
    if (args.before / "annotator" / "judge" / "parallel.py").exists():  # the previous code has --processes too
        configs.insert(1, (f"previous code, {args.processes} processes", args.before, args.processes))
    print(f"\n(1) {args.ab_segments} segments at concurrency {args.concurrency}, {args.rounds} rounds")
    results = {name: [] for name, _, _ in configs}
    for round_ in range(args.rounds):
        print(f" round {round_ + 1}")
        for name, code, processes in configs[round_ % len(configs):] + configs[:round_ % len(configs)]:
            results[name].append(measure(code, args.ab_segments, args.concurrency, processes, base_url))
            show(name, results[name][-1])
    print(" medians")
    baseline = statistics.median(r["busy_fraction"] for r in results[configs[0][0]])
    for name, runs in results.items():
        busy = statistics.median(r["busy_fraction"] for r in runs)
        cpu = statistics.median(r["cpu_ms_per_call"] for r in runs)
        print(f"  {name}: busy slots {busy:.1%} (x{busy / baseline:.2f} the previous code), "
              f"client CPU {cpu:.2f} ms/call")


def _codes() -> list[str]:
    sys.path.insert(0, str(REPO))
    from annotator.core.taxonomy import load_taxonomy

    return list(load_taxonomy("mast").codes)


if __name__ == "__main__":
    main()
