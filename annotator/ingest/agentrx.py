"""Reader for AgentRx (Barke et al., 2026): a folder of trajectories plus a ground-truth file.

Trajectory file ``<trajectory id>.json``: ``[{"content", "role"}, ...]``, one turn per message, the
speaker from the role as for Who&When ("Orchestrator (thought)" is Orchestrator). Ground truth:

    [{"trajectory_id", "failures": [{"failure_id", "step_number" (1-based), "step_reason",
      "failure_category", "category_reason", "failed_agent"}],
      "root_cause": {"failure_id", "reason_for_root_cause"}, "failure_summary"}, ...]

Every trajectory file is a trace (id: the trajectory id); those with ground truth carry the localisation
of the reference rater ``agentrx``. Categories are normalised through the shipped alias table.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from annotator.ingest.records import RecordLocalisation, TraceRecord, fail, id_part, kind_of
from annotator.ingest.steps import Warnings, check_agent, messages_to_turns, read_json, step_index
from annotator.ingest.whowhen import json_files
from annotator.store.localisations import Failure

RATER = "agentrx"


def _fold(name: str) -> str:
    """Spelling-insensitive key: case folded, dashes unified, spaces around '/' and '-' dropped."""
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", name).casefold()
    text = " ".join(text.split())
    return re.sub(r"\s*([/-])\s*", r"\1", text)


@lru_cache(maxsize=1)
def category_table() -> dict[str, str]:
    """Folded spelling -> canonical category, from annotator/resources/localisation/agentrx_categories.json."""
    from annotator.resources import LOCALISATION_DIR

    data = json.loads((LOCALISATION_DIR / "agentrx_categories.json").read_text(encoding="utf-8"))
    table = {_fold(name): name for name in data["categories"]}
    table.update({_fold(alias): canonical for alias, canonical in data["aliases"].items()})
    return table


@dataclass
class Categories:
    """Spellings met during one import and the canonical names they were mapped to."""

    mapped: Counter = field(default_factory=Counter)  # (spelling, canonical) -> count

    def normalise(self, spelling: str) -> str | None:
        canonical = category_table().get(_fold(spelling))
        if canonical is not None and canonical != spelling:
            self.mapped[(spelling, canonical)] += 1
        return canonical


def _ground_truth(path: Path) -> list[tuple[int, str, dict]]:
    data = read_json(path)
    if not isinstance(data, list):
        raise fail(path, f"expected a JSON list of ground-truth entries, not {kind_of(data)}")
    out, seen = [], set()
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise fail(path, f"expected an object, not {kind_of(entry)}", record=index)
        trajectory = id_part(path, entry.get("trajectory_id"), "trajectory_id", record=index)
        if not trajectory.strip():
            raise fail(path, "missing 'trajectory_id'", record=index)
        if trajectory in seen:
            raise fail(path, f"trajectory {trajectory!r} has a second ground-truth entry", record=index)
        seen.add(trajectory)
        out.append((index, trajectory, entry))
    return out


def _failures(path: Path, index: int, entry: dict, speakers: list[str | None], categories: Categories,
              warnings: Warnings) -> list[Failure]:
    where = {"record": index, "record_id": entry.get("trajectory_id")}
    failures = entry.get("failures")
    if not isinstance(failures, list):
        raise fail(path, f"field 'failures' must be a list, not {kind_of(failures)}", **where)
    root = entry.get("root_cause")
    root_id = id_part(path, root.get("failure_id"), "root_cause.failure_id", record=index) \
        if isinstance(root, dict) else ""
    out = []
    for j, item in enumerate(failures):
        if not isinstance(item, dict):
            raise fail(path, f"failures[{j}] must be an object, not {kind_of(item)}", **where)
        step = step_index(path, item.get("step_number"), f"failures[{j}].step_number", len(speakers), base=1,
                          record=f"record {index} (id {entry.get('trajectory_id')})")
        spelling = item.get("failure_category")
        if not isinstance(spelling, str) or not spelling.strip():
            raise fail(path, f"failures[{j}].failure_category must be text, not {kind_of(spelling)}", **where)
        category = categories.normalise(spelling)
        if category is None:
            raise fail(path, f"failures[{j}].failure_category {spelling!r} is not in the AgentRx category table "
                       "(annotator/resources/localisation/agentrx_categories.json)", **where)
        agent = item.get("failed_agent")
        if not isinstance(agent, str) or not agent.strip():
            raise fail(path, f"failures[{j}].failed_agent must be an agent's name, not {kind_of(agent)}", **where)
        agent = check_agent(agent, step, speakers, warnings, f"{path.name} record {index}")
        failure_id = id_part(path, item.get("failure_id"), f"failures[{j}].failure_id", record=index)
        reason = item.get("step_reason")
        out.append(Failure(step, agent, category, reason if isinstance(reason, str) else None,
                                 bool(root_id) and failure_id == root_id))
    return _one_root(path, index, entry, out, root_id, warnings)


def _one_root(path: Path, index: int, entry: dict, failures: list[Failure], root_id: str,
              warnings: Warnings) -> list[Failure]:
    """Exactly one root cause: the named one; with a single failure and no name, that failure."""
    roots = sum(f.is_root_cause for f in failures)
    if roots == 1 or not failures:
        return failures
    if roots > 1:
        raise fail(path, f"root_cause.failure_id {root_id!r} names several failures", record=index,
                   record_id=entry.get("trajectory_id"))
    if root_id:
        raise fail(path, f"root_cause.failure_id {root_id!r} is none of the trajectory's failures", record=index,
                   record_id=entry.get("trajectory_id"))
    warnings.add("no root cause named (the earliest failure taken)", f"{path.name} record {index}")
    first = min(range(len(failures)), key=lambda i: failures[i].step)
    return [Failure(f.step, f.agent, f.mode, f.note, i == first) for i, f in enumerate(failures)]


def _trajectory_files(folder: Path, ground_truth: Path) -> dict[str, Path]:
    files = [p for p in json_files(folder) if p.resolve() != ground_truth.resolve()]
    return {p.stem: p for p in files}


def read(folder: Path, ground_truth: Path, warnings: Warnings, categories: Categories) -> Iterator[TraceRecord]:
    """Every trajectory of ``folder``, with the ground truth's localisation where it has one."""
    if not ground_truth.is_file():
        raise fail(ground_truth, "no such ground-truth file")
    truth = _ground_truth(ground_truth)
    files = _trajectory_files(folder, ground_truth)
    for index, trajectory, _ in truth:
        if trajectory not in files:
            raise fail(ground_truth, f"no trajectory file {trajectory}.json in {folder}", record=index,
                       record_id=trajectory)
    by_id = {trajectory: (index, entry) for index, trajectory, entry in truth}
    for position, (trajectory, path) in enumerate(sorted(files.items(), key=lambda kv: str(kv[1]))):
        text, turns, speakers = messages_to_turns(path, read_json(path), "messages")
        record = TraceRecord(index=position, external_id=trajectory, text=text, turns=turns,
                             tags={"dataset": RATER, "subset": path.parent.name}, locator=path.name,
                             whole_turns=True)
        if trajectory in by_id:
            index, entry = by_id[trajectory]
            failures = _failures(ground_truth, index, entry, speakers, categories, warnings)
            summary = entry.get("failure_summary")
            record.localisations = [RecordLocalisation(RATER, failures, summary if isinstance(summary, str) else None)]
        yield record
