"""What the Taxonomy page computes: the versions table, changes built from the editor's fields (in the
shape of a refinement file, so the editor and `annotator taxonomy refine` accept the same thing), their
preview, and rows of the ambiguity and before/after views. Pure functions, no Streamlit.
"""

from __future__ import annotations

from annotator.core.refinement import Change, Plan, change_from_dict, plan
from annotator.core.report.fmt import fmt_flags, fmt_number
from annotator.core.report.modes import AmbiguousMode, VersionChange
from annotator.core.taxonomy import Taxonomy, TaxonomyError

KINDS = ("edit", "rename", "add", "retire", "merge", "split")
KIND_LABELS = {"edit": "Edit a definition", "rename": "Rename a mode", "add": "Add a mode", "retire": "Retire a mode",
               "merge": "Merge two or more modes", "split": "Split a mode in two or more"}


_NOT_LABEL_COUNTS = ("segments", "stale_segments")  # gold_counts keys that count segments, not labels


def version_rows(summaries, gold_counts: dict[int, dict]) -> list[dict]:
    """One row per stored version: parent, modes, labels, gold labels, draft."""
    return [{"version": f"{t.name}@{t.version}", "parent": t.parent or "", "modes": t.modes, "labels": t.labels,
             "gold labels": sum(v for k, v in gold_counts.get(t.id, {}).items()
                                  if k not in _NOT_LABEL_COUNTS),
             "draft": "draft" if t.is_draft else ""} for t in summaries]


def _mode(code: str, name: str, category: str, definition: str) -> dict:
    return {"code": code.strip(), "name": name.strip(), "category": category.strip(), "definition": definition}


def change_dict(kind: str, fields: dict) -> dict:
    """A change in the refinement-file shape from the editor's fields (not yet checked)."""
    if kind == "edit":
        return {"edit": fields["code"], "definition": fields["definition"]}
    if kind == "rename":
        return {"rename": fields["code"], "name": fields["name"]}
    if kind == "retire":
        return {"retire": fields["code"]}
    if kind == "add":
        return {"add": _mode(fields["new_code"], fields["name"], fields["category"], fields["definition"])}
    if kind == "merge":
        return {"merge": list(fields["codes"]),
                "into": _mode(fields["new_code"], fields["name"], fields["category"], fields["definition"])}
    if kind == "split":
        return {"split": fields["code"], "into": [_mode(p["code"], p["name"], p["category"], p["definition"])
                                                  for p in fields["parts"]]}
    raise TaxonomyError(f"unknown change {kind!r}; expected one of {', '.join(KINDS)}")


def parse_changes(raws: list[dict]) -> list[Change]:
    """Check every change dict (TaxonomyError names the first bad one)."""
    return [change_from_dict(raw, i) for i, raw in enumerate(raws)]


def preview(base: Taxonomy, raws: list[dict], *, version: str) -> Plan:
    """The new version the changes would make; TaxonomyError when a change does not fit."""
    return plan(base, parse_changes(raws), version=version)


def parse_yaml(text: str) -> tuple[list[dict], str | None]:
    """Changes pasted as YAML: a refinement file ({version, changes: [...]}) or just the list."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    version = None
    if isinstance(data, dict) and "changes" in data:
        version = None if data.get("version") is None else str(data["version"])
        data = data["changes"]
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise TaxonomyError("expected a list of changes (or a mapping with a list 'changes')")
    parse_changes(data)
    return data, version


def describe(raw: dict) -> str:
    """One line saying what a change does."""
    if "edit" in raw:
        return f"edit {raw['edit']}: new definition"
    if "rename" in raw:
        return f"rename {raw['rename']} to {raw.get('name')!r}"
    if "retire" in raw:
        return f"retire {raw['retire']}"
    if "add" in raw:
        return f"add {raw['add'].get('code')} {raw['add'].get('name')}"
    if "merge" in raw:
        return f"merge {', '.join(map(str, raw['merge']))} into {raw['into'].get('code')} {raw['into'].get('name')}"
    if "split" in raw:
        return f"split {raw['split']} into {', '.join(str(p.get('code')) for p in raw.get('into') or [])}"
    return ", ".join(f"{k}: {v}" for k, v in raw.items())


def preview_rows(new_plan: Plan) -> list[dict]:
    """The modes of the new version, each with where its labels come from."""
    rows = []
    for mode in new_plan.taxonomy.modes:
        kind, olds = new_plan.sources[mode.code]
        rows.append({"code": mode.code, "name": mode.name, "category": mode.category,
                     "change": "" if kind == "same" else kind, "from": ", ".join(olds)})
    rows += [{"code": code, "name": "", "category": "", "change": "retire", "from": code}
             for code in new_plan.retired]
    return rows


def ambiguity_rows(modes: list[AmbiguousMode]) -> list[dict[str, str]]:
    """`annotator.core.report.modes.ambiguous_modes` as a table: least agreement first."""
    return [{"mode": f"{m['code']} {m['name']}", "human kappa": fmt_number(m["human_kappa"]),
             "confused with": ", ".join(f"{p['mode']} ({p['count']}x)" for p in m["confused_with"][:4]),
             "contested segments": ", ".join(m["contested_examples"]), "flags": fmt_flags(m["flags"])}
            for m in modes]


def comparison_rows(rows: list[VersionChange]) -> list[dict[str, str]]:
    """`annotator.core.report.modes.compare_versions` as a table."""
    return [{"mode": f"{r['code']} {r['name']}".strip(), "change": r["change"], "from": ", ".join(r["from"]),
             "kappa before": " / ".join(fmt_number(k) for k in r["kappa_before"]) or "–",
             "kappa after": fmt_number(r["kappa_after"])} for r in rows]


def refinement_lines(done) -> list[str]:
    """What `refine_taxonomy` did, for people."""
    return [f"{done.taxonomy} made from {done.parent}.",
            f"{done.labels_carried:,} labels carried over ({done.labels_stale:,} marked stale: given under an "
            f"older definition); {done.gold_carried:,} gold labels carried.",
            f"{len(done.relabel_segments):,} segments went back to the annotators' queue (a split mode was present)."]
