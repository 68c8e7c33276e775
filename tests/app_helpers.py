"""Builders shared by the web-app tests: small databases, a fake agreement engine, AppTest set-up.

Databases are built through the store (no importer), so these tests do not depend on the segmenter.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

from annotator import store
from annotator.taxonomy import load_taxonomy

REPO = Path(__file__).resolve().parent.parent
MAIN = str(REPO / "annotator" / "app" / "main.py")

PAYLOADS = (
    "<script>window.__pwned = 1; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\">",
    "![tracker](http://203.0.113.9/pixel.png) and [a link](http://203.0.113.9/phish)",
    "$\\frac{a}{b}$ and $$E = mc^2$$",
    "<iframe src=\"http://203.0.113.9/frame\"></iframe><style>body{display:none}</style>",
)


def turn_text(turns: list[tuple[str, str]]) -> str:
    """A trace as 'Speaker: text' blocks (the generic turn format)."""
    return "\n".join(f"{speaker}: {body}" for speaker, body in turns)


def add_trace(db, external_id: str, turns: list[tuple[str, str]], *, scheme: str = "turn",
              tags: dict | None = None) -> int:
    """Insert a trace whose turns are its segments (scheme 'turn'), or one whole-trace segment."""
    text = turn_text(turns)
    segments, offset = [], 0
    for i, (speaker, body) in enumerate(turns):
        piece = f"{speaker}: {body}" + ("\n" if i < len(turns) - 1 else "")
        segments.append(store.SegmentInput(scheme, i, "turn", offset, offset + len(piece), speaker))
        offset += len(piece)
    whole = store.SegmentInput("trace", 0, "trace", 0, len(text), queued=scheme == "trace")
    trace = store.TraceInput(external_id=external_id, text=text, source="test", format="jsonl",
                             framework="TestFramework", benchmark="TestBench", tags=tags or {"round": "1"},
                             segments=[whole] + (segments if scheme != "trace" else []))
    with store.write(db):
        trace_id, _ = store.insert_trace(db, trace)
    return trace_id


def make_db(path: Path, *, traces: int = 3, turns: int = 3, k: int = 2) -> dict:
    """A database with the MAST taxonomy, `traces` traces of `turns` turn segments each, three users
    (alice annotator, rita reviewer, lead admin), and k set. Returns the tokens by user name."""
    db = store.connect(path)
    store.save_taxonomy(db, load_taxonomy("mast"))
    for t in range(traces):
        add_trace(db, f"trace-{t}", [(("Planner", "Coder", "Reviewer")[i % 3], f"Trace {t} turn {i}: do step {i}.\n"
                                      f"Second line of turn {i}.") for i in range(turns)])
    tokens = {name: store.add_user(db, name, role)
              for name, role in (("alice", "annotator"), ("bob", "annotator"), ("rita", "reviewer"),
                                 ("lead", "admin"))}
    store.save_settings(db, k=k)
    db.conn.close()
    return tokens


def add_other_labels(db, segment_id: int, rater: str, codes: set[str], *, kind: str = "human") -> None:
    """Labels from a rater who is not a user (an imported annotator or a judge)."""
    tax = store.get_taxonomy(db, "mast")
    rater_id = store.ensure_rater(db, rater, kind)
    values = {mode_id: int(code in codes) for code, mode_id in tax.mode_ids.items()}
    store.write_labels(db, store.LabelWrite(segment_id, rater_id, tax.id, values,
                                            rationales={tax.mode_ids[c]: f"{rater} says {c}" for c in codes}))


# --------------------------------------------------------------------------------------------------
# A stand-in for annotator.report until the agreement engine is merged: same contract, simple maths.

def _kappa(a: list[int], b: list[int]) -> float | None:
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return None if pe == 1 else (po - pe) / (1 - pe)


def _pair(a_name, b_name, a, b) -> dict:
    both = sum(x and y for x, y in zip(a, b))
    a_only = sum(x and not y for x, y in zip(a, b))
    b_only = sum(y and not x for x, y in zip(a, b))
    n = len(a)
    kappa = _kappa(a, b)
    observed = (n - a_only - b_only) / n if n else None
    flags = (["undefined"] if kappa is None else []) + (["low_positive_count"] if both + a_only + b_only < 10 else [])
    if kappa is not None and observed is not None and observed >= 0.9 and kappa < 0.4:
        flags.append("kappa_paradox")
    half = None if kappa is None else 0.5 / max(n, 1) ** 0.5
    return {"a": a_name, "b": b_name, "n": n, "both": both, "a_only": a_only, "b_only": b_only,
            "neither": n - both - a_only - b_only, "observed_agreement": observed, "kappa": kappa,
            "ci_low": None if kappa is None else max(-1.0, kappa - 2 * half),
            "ci_high": None if kappa is None else min(1.0, kappa + 2 * half), "se": half,
            "positive_agreement": None, "ac1": None, "pabak": None if observed is None else 2 * observed - 1,
            "flags": flags}


def fake_report_for(db, *, taxonomy="mast", raters=None, level="segment", tags=None, bootstrap=1000, seed=0) -> dict:
    tax = store.get_taxonomy(db, taxonomy)
    by_rater: dict[str, dict[int, dict[str, int]]] = {}
    for seg in store.iter_segments(db, with_text=False):
        for labels in store.labels_for_segment(db, seg.id, tax.id):
            if raters is None or labels.rater in raters:
                by_rater.setdefault(labels.rater, {})[seg.id] = labels.values
    names = sorted(by_rater)
    modes, pooled, confusion = [], {}, {}
    for mode in tax.taxonomy.modes:
        pairs = []
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                common = sorted(set(by_rater[a]) & set(by_rater[b]))
                if not common:
                    continue
                va = [by_rater[a][s].get(mode.code, 0) for s in common]
                vb = [by_rater[b][s].get(mode.code, 0) for s in common]
                pairs.append(_pair(a, b, va, vb))
                pooled.setdefault((a, b), ([], []))
                pooled[(a, b)][0].extend(va)
                pooled[(a, b)][1].extend(vb)
        defined = [p["kappa"] for p in pairs if p["kappa"] is not None]
        modes.append({"code": mode.code, "name": mode.name, "category": mode.category, "pairs": pairs,
                      "mean_pairwise_kappa": sum(defined) / len(defined) if defined else None,
                      "fleiss_kappa": None, "krippendorff_alpha": None,
                      "flags": sorted({f for p in pairs for f in p["flags"]})})
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for s in set(by_rater[a]) & set(by_rater[b]):
                la, lb = by_rater[a][s], by_rater[b][s]
                for x in tax.taxonomy.codes:
                    for y in tax.taxonomy.codes:
                        if x < y and la.get(x) and not la.get(y) and lb.get(y) and not lb.get(x):
                            confusion.setdefault((x, y), []).append(s)
    pooled_pairs = [_pair(a, b, *values) for (a, b), values in pooled.items()]
    defined = [p["kappa"] for p in pooled_pairs if p["kappa"] is not None]
    return {"taxonomy": {"name": tax.taxonomy.name, "version": tax.taxonomy.version}, "level": level,
            "raters": [{"name": n, "kind": "human"} for n in names], "modes": modes,
            "pooled": {"pairs": pooled_pairs, "mean_pairwise_kappa": sum(defined) / len(defined) if defined else None},
            "co_confusion": [{"a_mode": x, "b_mode": y, "count": len(s), "rate": len(s) / 10, "examples": s[:5]}
                             for (x, y), s in sorted(confusion.items())],
            "params": {"bootstrap": bootstrap, "seed": seed}}


def fake_render(report: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report)
    if fmt == "csv":
        return "mode,a,b,kappa\n" + "".join(f"{m['code']},{p['a']},{p['b']},{p['kappa']}\n"
                                            for m in report["modes"] for p in m["pairs"])
    if fmt == "md":
        return "| mode | kappa |\n|---|---|\n" + "".join(f"| {m['code']} | {m['mean_pairwise_kappa']} |\n"
                                                      for m in report["modes"])
    return "<table>" + "".join(f"<tr><td>{m['code']}</td></tr>" for m in report["modes"]) + "</table>"


def install_fake_report(monkeypatch, *, force: bool = False) -> None:
    """Make `annotator.report` importable with the fake engine (unless the real one exists and not `force`)."""
    if not force:
        try:
            import annotator.report  # noqa: F401
            return
        except ImportError:
            pass
    module = types.ModuleType("annotator.report")
    module.report_for, module.render = fake_report_for, fake_render
    monkeypatch.setitem(sys.modules, "annotator.report", module)
