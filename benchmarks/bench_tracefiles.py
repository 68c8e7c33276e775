"""Import of generated Langfuse, LangSmith and OpenAI Agents exports: wall time and peak memory against
`json.load` of the same file (each step in its own process, peak RSS from VmHWM).

Each trace is a two-agent run whose LLM calls repeat the growing history (as real exports do). The Langfuse
file is one document, `{"data": [trace, ...]}` (an API list response), so it cannot be read line by line;
the LangSmith and OpenAI Agents files are JSON Lines, read into a list for the baseline.

    python benchmarks/bench_tracefiles.py [--mb 100] [--formats langfuse,langsmith,openai-agents]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from bench_otlp import WORDS, _child


def _iso(t: int, at: float) -> str:
    return f"2025-03-{1 + t // 86400 % 28:02d}T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{at % 60:06.3f}Z"


def _turns(rng: random.Random, n: int):
    history = [{"role": "user", "content": " ".join(rng.choices(WORDS, k=30))}]
    for _ in range(n):
        answer = {"role": "assistant", "content": " ".join(rng.choices(WORDS, k=rng.randint(40, 200)))}
        yield list(history), answer
        history.append(answer)


def langfuse_trace(rng: random.Random, t: int) -> dict:
    obs = []
    for a, agent in enumerate(("planner", "writer")):
        aid = f"t{t}-a{a}"
        obs.append({"id": aid, "traceId": f"t{t}", "type": "AGENT", "name": agent, "startTime": _iso(t, a * 30),
                    "endTime": _iso(t, a * 30 + 29), "parentObservationId": None, "input": None, "output": None})
        for k, (prompt, answer) in enumerate(_turns(rng, 4)):
            obs.append({"id": f"{aid}-g{k}", "traceId": f"t{t}", "type": "GENERATION", "name": "chat",
                        "model": "m", "startTime": _iso(t, a * 30 + 2 * k + 1), "endTime": _iso(t, a * 30 + 2 * k + 2),
                        "parentObservationId": aid, "input": prompt, "output": answer})
    return {"id": f"t{t}", "name": "run", "timestamp": _iso(t, 0), "observations": obs, "scores": []}


def langsmith_runs(rng: random.Random, t: int) -> list[dict]:
    root = f"{t:08x}-0000-4000-8000-000000000000"
    runs = [{"id": root, "trace_id": root, "parent_run_id": None, "run_type": "chain", "name": "LangGraph",
             "inputs": {"messages": [{"role": "user", "content": "go"}]}, "outputs": None,
             "start_time": _iso(t, 0), "end_time": _iso(t, 59)}]
    for a, agent in enumerate(("planner", "writer")):
        aid = f"{t:08x}-0000-4000-8000-{a + 1:012x}"
        runs.append({"id": aid, "trace_id": root, "parent_run_id": root, "run_type": "chain", "name": agent,
                     "extra": {"metadata": {"langgraph_node": agent}}, "inputs": None, "outputs": None,
                     "start_time": _iso(t, a * 30 + 0.5), "end_time": _iso(t, a * 30 + 29)})
        for k, (prompt, answer) in enumerate(_turns(rng, 4)):
            runs.append({"id": f"{t:08x}-0000-4000-8001-{a * 100 + k:012x}", "trace_id": root, "parent_run_id": aid,
                         "run_type": "llm", "name": "ChatOpenAI", "inputs": {"messages": prompt},
                         "outputs": {"choices": [{"message": answer}]},
                         "start_time": _iso(t, a * 30 + 2 * k + 1), "end_time": _iso(t, a * 30 + 2 * k + 2)})
    return runs


def agents_records(rng: random.Random, t: int) -> list[dict]:
    tid = f"trace_{t:032x}"
    out = [{"object": "trace", "id": tid, "workflow_name": "w", "group_id": None}]
    for a, agent in enumerate(("planner", "writer")):
        aid = f"span_{t:016x}{a:08x}"
        out.append({"object": "trace.span", "id": aid, "trace_id": tid, "parent_id": None,
                    "started_at": _iso(t, a * 30), "ended_at": _iso(t, a * 30 + 29),
                    "span_data": {"type": "agent", "name": agent}})
        for k, (prompt, answer) in enumerate(_turns(rng, 4)):
            out.append({"object": "trace.span", "id": f"{aid}{k:04x}", "trace_id": tid, "parent_id": aid,
                        "started_at": _iso(t, a * 30 + 2 * k + 1), "ended_at": _iso(t, a * 30 + 2 * k + 2),
                        "span_data": {"type": "generation", "model": "m", "input": prompt, "output": [answer]}})
    return out


def generate(path: Path, fmt: str, total_mb: float) -> int:
    rng, traces = random.Random(0), 0
    with open(path, "w", encoding="utf-8") as out:
        if fmt == "langfuse":
            out.write('{"data": [')
        while out.tell() < total_mb * 1_000_000:
            if fmt == "langfuse":
                out.write(("," if traces else "") + json.dumps(langfuse_trace(rng, traces)))
            else:
                make = langsmith_runs if fmt == "langsmith" else agents_records
                out.write("".join(json.dumps(r) + "\n" for r in make(rng, traces)))
            traces += 1
        if fmt == "langfuse":
            out.write('], "meta": {}}')
    return traces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100)
    parser.add_argument("--formats", default="langfuse,langsmith,openai-agents")
    args = parser.parse_args()
    print("| format | file | traces | baseline wall / peak RSS | import wall / peak RSS |\n|---|---|---|---|---|")
    for fmt in args.formats.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            data, db = Path(tmp) / "export.json", Path(tmp) / "bench.db"
            traces = generate(data, fmt, args.mb)
            load = (f"import json; d = json.load(open({str(data)!r}))" if fmt == "langfuse" else
                    f"import json; rows = [json.loads(l) for l in open({str(data)!r}, 'rb')]")
            base_wall, base_rss = _child(load)
            wall, rss = _child(
                "from annotator import store; from annotator.ingest import import_file; "
                f"r = import_file(store.connect({str(db)!r}), {str(data)!r}); assert r.traces_added == {traces}")
            print(f"| {fmt} | {data.stat().st_size / 1e6:.0f} MB | {traces} | {base_wall:.1f} s / {base_rss:.0f} MB"
                  f" | {wall:.1f} s / {rss:.0f} MB |")


if __name__ == "__main__":
    main()
