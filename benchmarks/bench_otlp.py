"""Import of a generated OTLP JSON export (`--format otel`): wall time and peak memory against `json.load`.

The file is what the Collector's file exporter writes: one ExportTraceServiceRequest per line, batches of
spans that interleave traces. Each trace is a two-agent run under the current GenAI conventions (agent
spans, chat spans whose input repeats the history, tool spans). Each measurement runs in its own process so
peak RSS is that step's alone. The baseline loads every line with `json.loads` and keeps them (what reading
the export without streaming needs); `json.load` of the whole file is impossible, it is not one document.

    python benchmarks/bench_otlp.py [--mb 200] [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import tempfile
from pathlib import Path

from bench_import import _child  # benchmarks/ is on sys.path when a script in it runs

REPO = Path(__file__).resolve().parent.parent
WORDS = ["the", "weather", "in", "paris", "is", "sunny", "so", "plan", "a", "walk", "along", "the", "river",
         "then", "lunch", "near", "the", "museum", "and", "check", "the", "opening", "hours", "first"]
S = 1_000_000_000


def _attr(key: str, value) -> dict:
    return {"key": key, "value": {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}}


def _msg(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def _trace(rng: random.Random, t: int, turns: int) -> list[dict]:
    trace_id = f"{t + 1:032x}"
    start = 1_750_000_000 * S + t * 100 * S
    spans = []

    def span(n: int, parent: int | None, name: str, at: int, **attrs) -> None:
        item = {"traceId": trace_id, "spanId": f"{t * 1000 + n + 1:016x}", "name": name, "kind": 1,
                "startTimeUnixNano": str(start + at * S), "endTimeUnixNano": str(start + (at + 1) * S),
                "attributes": [_attr(k, v) for k, v in attrs.items()]}
        if parent is not None:
            item["parentSpanId"] = f"{t * 1000 + parent + 1:016x}"
        spans.append(item)

    history = [_msg("user", " ".join(rng.choices(WORDS, k=30)))]
    for agent_index, agent in enumerate(("Planner", "Writer")):
        agent_span = len(spans)
        span(agent_span, None if agent_index == 0 else 0, f"invoke_agent {agent}", agent_index * 50,
             **{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent})
        for k in range(turns):
            answer = _msg("assistant", " ".join(rng.choices(WORDS, k=rng.randint(40, 200))))
            span(len(spans), agent_span, "chat m", agent_index * 50 + 2 * k + 1,
                 **{"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                    "gen_ai.input.messages": json.dumps(history), "gen_ai.output.messages": json.dumps([answer])})
            history = history + [answer]
            span(len(spans), agent_span, "execute_tool search", agent_index * 50 + 2 * k + 2,
                 **{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search",
                    "gen_ai.tool.call.arguments": '{"q": "x"}', "gen_ai.tool.call.result": "ok"})
    return spans


def generate(path: Path, total_mb: float, seed: int = 0) -> tuple[int, int]:
    """Write ~total_mb of OTLP JSON lines; batches of 200 spans from 8 interleaved traces. (traces, spans)."""
    rng = random.Random(seed)
    traces = spans = 0
    with open(path, "w", encoding="utf-8") as out:
        while out.tell() < total_mb * 1_000_000:
            group = [_trace(rng, traces + i, 4) for i in range(8)]
            traces += 8
            mixed = [s for batch in zip(*group) for s in batch]
            for i in range(0, len(mixed), 200):
                batch = mixed[i:i + 200]
                spans += len(batch)
                out.write(json.dumps({"resourceSpans": [{
                    "resource": {"attributes": [_attr("service.name", "bench")]},
                    "scopeSpans": [{"scope": {"name": "bench.agents"}, "spans": batch}]}]}) + "\n")
    return traces, spans


def _measured(code: str) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of `code` run in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, rss = _child(code)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200, help="size of the generated export")
    parser.add_argument("--keep", action="store_true", help="keep the export in benchmarks/")
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-otlp-")
    data, db = Path(folder) / "export.jsonl", Path(folder) / "bench.db"
    traces, spans = generate(data, options.mb)
    # each step in a fresh interpreter (bench_import's helper), so a peak RSS is that step's alone; CPU time
    # beside wall time, because a shared machine stretches the wall clock
    base_wall, base_cpu, base_rss = _measured(
        f"import json; rows = [json.loads(l) for l in open({str(data)!r}, 'rb')]")
    imp_wall, imp_cpu, imp_rss = _measured(
        "from annotator import store; from annotator.ingest import import_file; "
        f"r = import_file(store.connect({str(db)!r}), {str(data)!r}); assert r.traces_added == {traces}")
    print(f"file: {data.stat().st_size / 1e6:.0f} MB, {traces} traces, {spans} spans")
    print("| step | wall time | CPU time | peak RSS |\n|---|---|---|---|")
    print(f"| baseline: `json.loads` of every line, kept | {base_wall:.1f} s | {base_cpu:.1f} s | {base_rss:.0f} MB |")
    print(f"| `annotator import` (otel, turns) | {imp_wall:.1f} s | {imp_cpu:.1f} s | {imp_rss:.0f} MB |")
    print(f"| ratio import / baseline | {imp_wall / base_wall:.1f}x | {imp_cpu / base_cpu:.1f}x | "
          f"{imp_rss / base_rss:.2f}x |")
    if options.keep:
        data.replace(REPO / "benchmarks" / "otlp-export.jsonl")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
