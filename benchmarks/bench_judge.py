"""Judge benchmarks against the local OpenAI-compatible test server (run in its own process).

    python benchmarks/bench_judge.py [--segments 480] [--concurrency 32] [--cpu-calls 1500]

1. Throughput: N segments, each answered after its own latency drawn uniform in [0.25, 0.75] s,
   at concurrency C: the worker pool against a batch-then-wait baseline over the same segments.
   Reports the share of the C slots kept busy while segments were still waiting, and throughput
   against the ideal C / mean latency.
2. Client CPU per call of the whole path (render, call, parse, store) against a server that answers at
   once, concurrency 64: the full judge path, litellm.acompletion alone on the same requests, and the
   project's own steps timed without litellm.
3. `import annotator.cli.main` does not import litellm (and how long it takes).

Prints figures; writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from judge_helpers import MAST_CODES, make_judge_db

from annotator import store
from annotator.judge import JudgeOptions
from annotator.judge.plan import plan_run
from annotator.judge.runner import Execution
from annotator.judge.service import create_run

MODEL = "openai/test-model"


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "llm_server.py"), "--port", "0",
                             "--codes", ",".join(MAST_CODES)], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


class BatchThenWait(Execution):
    """The baseline: take C jobs, wait for all of them, take the next C."""

    async def run(self):
        self.stats.started = self.stats._last_change = time.perf_counter()
        jobs, size = self.plan.jobs, self.stats.concurrency
        for start in range(0, len(jobs), size):
            batch = jobs[start:start + size]
            if start + size >= len(jobs):
                self.stats.mark_drained()
            await asyncio.gather(*(self._one(job) for job in batch))
        self.stats.finished = time.perf_counter()
        return self.stats

    async def _one(self, job):
        self.stats.occupy(+1)
        try:
            await self.judge(job)
        finally:
            self.stats.occupy(-1)


def execute(db, options: JudgeOptions, cls=Execution):
    run_id = create_run(db, options)
    plan = plan_run(db, options)
    rater_id = store.get_rater(db, plan.rater).id
    execution = cls(db, plan, run_id, rater_id)
    began = time.perf_counter()
    cpu = time.process_time()
    stats = asyncio.run(execution.run())
    return stats, time.perf_counter() - began, time.process_time() - cpu, execution


def warm_up(tmp: Path, base_url: str) -> None:
    """litellm's first calls are slow (clients, lazy imports, caches): measure the steady state."""
    db, _ = make_judge_db(tmp / "warm.db", [f"warm up {i}" for i in range(128)])
    execute(db, JudgeOptions(model=MODEL, api_base=base_url, concurrency=32))


def bench_throughput(tmp: Path, base_url: str, n: int, concurrency: int) -> None:
    rng = random.Random(20261124)
    latencies = [round(rng.uniform(0.25, 0.75), 3) for _ in range(n)]
    texts = [f"Agent {i}: a short turn to judge. [[latency:{lat}]]" for i, lat in enumerate(latencies)]
    mean = statistics.fmean(latencies)
    ideal = concurrency / mean
    print(f"\n(1) throughput: {n} segments, latency uniform [0.25, 0.75] s (mean {mean:.3f} s), "
          f"concurrency {concurrency}; ideal {ideal:.1f} calls/s")
    results = {}
    for name, cls in (("worker pool", Execution), ("batch-then-wait", BatchThenWait)):
        db, _ = make_judge_db(tmp / f"tp-{name[0]}.db", texts)
        options = JudgeOptions(model=MODEL, api_base=base_url, concurrency=concurrency, timeout=30)
        stats, wall, _, _ = execute(db, options, cls)
        assert stats.done == n, (name, stats)
        results[name] = wall
        rate = stats.rate_while_waiting()
        print(f"    {name:<16} while segments waited: {rate:5.1f} calls/s = {rate / ideal:5.1%} of ideal, "
              f"slots holding a call {stats.slot_occupancy():6.1%};  whole run: wall {wall:5.2f} s, "
              f"{n / wall:5.1f} calls/s ({n / wall / ideal:5.1%} of ideal, incl. the final drain)")
    print(f"    batch-then-wait takes {results['batch-then-wait'] / results['worker pool']:.2f}x the pool's time")
    db, _ = make_judge_db(tmp / "tp-l.db", texts)
    plan = plan_run(db, JudgeOptions(model=MODEL, api_base=base_url, concurrency=concurrency))
    fitter = Execution(db, plan, 0, 0).fitter
    requests = [{"model": MODEL, "api_base": base_url, "api_key": "no-key", "timeout": 30, "max_tokens": 3000,
                 "messages": fitter.fit(store.get_segment(db, j.segment.id).text, j)[0]} for j in plan.jobs]
    began = time.perf_counter()
    asyncio.run(litellm_pool(requests, concurrency))
    wall = time.perf_counter() - began
    print(f"    reference: litellm.acompletion alone in the same pool (no render/parse/store): wall {wall:5.2f} s, "
          f"{n / wall:5.1f} calls/s ({n / wall / ideal:5.1%} of ideal, incl. the final drain)")


async def litellm_pool(requests: list[dict], concurrency: int) -> None:
    from annotator.judge import llm

    it = iter(requests)

    async def worker():
        for kwargs in it:
            await llm.complete(**kwargs)
    await asyncio.gather(*(worker() for _ in range(concurrency)))


def bench_cpu(tmp: Path, base_url: str, calls: int, concurrency: int = 64, rounds: int = 3) -> None:
    """Three measures, each the median of `rounds`: the full path; litellm.acompletion alone on the same
    requests; and the full path with litellm stubbed out (the project's own share: scheduling, reading,
    rendering, parsing, scrubbing and storing the call row and labels)."""
    import gc

    from annotator.judge import llm

    print(f"\n(2) client CPU per call, {calls} calls, concurrency {concurrency}, server answers at once "
          f"(median of {rounds} rounds)")
    texts = [f"Agent {i}: turn text to judge, with a few words of content. [[present:1.1]]" for i in range(calls)]
    answer = '{"modes": {' + ", ".join(f'"{c}": {{"present": {str(c == "1.1").lower()}, "evidence": ""}}'
                                        for c in MAST_CODES) + '}, "summary": "s"}'

    async def stub(**_kwargs):
        await asyncio.sleep(0)  # one trip through the loop, as a real answer takes
        return llm.Reply(answer, 900, 300, None)

    full, alone, own = [], [], []
    for r in range(rounds):
        gc.collect()
        db, _ = make_judge_db(tmp / f"cpu{r}.db", texts)
        options = JudgeOptions(model=MODEL, api_base=base_url, concurrency=concurrency, timeout=30)
        stats, _, cpu, execution = execute(db, options)
        assert stats.done == calls, stats
        full.append(cpu / calls * 1000)

        requests = [execution._call_kwargs(job, {"model": MODEL, "max_tokens": 3000, "temperature": 0,
                                                 "messages": execution.fitter.fit(
                                                     store.get_segment(db, job.segment.id).text, job)[0]})
                    for job in execution.plan.jobs]
        gc.collect()
        began = time.process_time()
        asyncio.run(litellm_pool(requests, concurrency))
        alone.append((time.process_time() - began) / calls * 1000)

        gc.collect()
        db, _ = make_judge_db(tmp / f"own{r}.db", texts)
        real, llm.complete = llm.complete, stub
        try:
            stats, _, cpu, _ = execute(db, options)
        finally:
            llm.complete = real
        assert stats.done == calls, stats
        own.append(cpu / calls * 1000)
    full_ms, alone_ms, own_ms = (statistics.median(x) for x in (full, alone, own))
    print(f"    full judge path (render, call, parse, store):  {full_ms:5.2f} ms CPU per call")
    print(f"    litellm.acompletion alone, same requests:      {alone_ms:5.2f} ms CPU per call (litellm's share)")
    print(f"    full path with litellm stubbed out:            {own_ms:5.2f} ms CPU per call (the project's share)")
    print(f"    cross-check: full - litellm alone =            {full_ms - alone_ms:5.2f} ms")


def bench_import() -> None:
    code = ("import sys, time; t = time.perf_counter(); import annotator.cli.main; "
            "print(f'{(time.perf_counter() - t) * 1000:.0f}', 'litellm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True).stdout.split()
    print(f"\n(3) python -c 'import annotator.cli.main': {out[0]} ms, litellm imported: {out[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=480)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--cpu-calls", type=int, default=1500)
    args = parser.parse_args()
    print(f"judge benchmarks, {datetime.date.today()}, {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, litellm {__import__('importlib.metadata').metadata.version('litellm')}")
    server, base_url = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            warm_up(Path(tmp), base_url)
            bench_throughput(Path(tmp), base_url, args.segments, args.concurrency)
            bench_cpu(Path(tmp), base_url, args.cpu_calls)
    finally:
        server.terminate()
        server.wait(timeout=10)
    bench_import()


if __name__ == "__main__":
    main()
