"""Refining a taxonomy: a list of changes makes a new version, and labels carry over where they are determined.

Pure core. Changes:

- ``edit``: a new definition; labels carry over, marked *stale* (given under the old wording);
- ``rename``: a new name, same code and meaning; labels carry over;
- ``add``: a new mode; nobody has labelled it yet (missing);
- ``retire``: the mode is dropped; its labels stay with the old version only;
- ``merge``: several modes become one; the new mode is present when any source was (OR), absent when
  every source was absent, otherwise missing;
- ``split``: one mode becomes several; where the old mode was absent every part is absent, where it was
  present the parts are unknown, so that segment goes back to its annotators;
- ``recode``: codes are renumbered, all at once ({old: new, ...}); labels carry over.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from annotator.core.taxonomy import Mode, Taxonomy, TaxonomyError

KINDS = ("edit", "rename", "add", "retire", "merge", "split", "recode")


@dataclass(frozen=True)
class Change:
    kind: str
    code: str = ""                       # edit, rename, retire, split: the mode changed
    codes: tuple[str, ...] = ()          # merge: the modes merged
    definition: str = ""                 # edit
    name: str = ""                       # rename
    modes: tuple[Mode, ...] = ()         # add: one; merge: the merged mode; split: the parts
    recode: tuple[tuple[str, str], ...] = ()  # recode: (old code, new code) pairs


@dataclass(frozen=True)
class Plan:
    """The new taxonomy and, for each new code, where its labels come from."""

    taxonomy: Taxonomy
    sources: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # new code -> (kind, old codes)
    retired: tuple[str, ...] = ()

    def mapping_rows(self) -> list[tuple[str, str | None, str]]:
        """(old code, new code or None, kind) rows for storing the mapping between versions."""
        rows = [(old, new, kind) for new, (kind, olds) in self.sources.items() for old in olds]
        return rows + [(old, None, "retire") for old in self.retired]


def _mode_from(raw: Any, where: str) -> Mode:
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{where}: expected a mode with code, name, category and definition")
    missing = [k for k in ("code", "name", "category", "definition") if not str(raw.get(k) or "").strip()]
    if missing:
        raise TaxonomyError(f"{where}: missing field(s) {', '.join(missing)}")
    return Mode(code=str(raw["code"]).strip(), name=str(raw["name"]).strip(), category=str(raw["category"]).strip(),
                definition=" ".join(str(raw["definition"]).split()))


def change_from_dict(raw: Any, index: int) -> Change:
    """Parse one change of a refinement file, e.g. {"merge": ["3.2", "3.3"], "into": {...}}."""
    where = f"changes[{index}]"
    kinds = [k for k in KINDS if isinstance(raw, dict) and k in raw]
    if len(kinds) != 1:
        raise TaxonomyError(f"{where}: expected exactly one of {', '.join(KINDS)}")
    kind = kinds[0]
    value = raw[kind]
    if kind == "add":
        return Change(kind, modes=(_mode_from(value, where),))
    if kind == "merge":
        codes = tuple(str(c) for c in value) if isinstance(value, list) else ()
        return Change(kind, codes=codes, modes=(_mode_from(raw.get("into"), f"{where}.into"),))
    if kind == "recode":
        if not isinstance(value, dict) or not value:
            raise TaxonomyError(f"{where}: recode needs a mapping of old code to new code")
        return Change(kind, recode=tuple((str(k), str(v)) for k, v in value.items()))
    if kind == "split":
        parts = raw.get("into") if isinstance(raw.get("into"), list) else []
        modes = tuple(_mode_from(p, f"{where}.into[{i}]") for i, p in enumerate(parts))
        return Change(kind, code=str(value), modes=modes)
    return Change(kind, code=str(value), definition=" ".join(str(raw.get("definition") or "").split()),
                  name=str(raw.get("name") or "").strip())


def plan(base: Taxonomy, changes: list[Change], *, version: str) -> Plan:
    """Apply changes to `base` (in order) and record where each new mode's labels come from.

    Raises TaxonomyError with a one-line reason for a change that does not fit the taxonomy.
    """
    if not changes:
        raise TaxonomyError("no changes: a new version must differ from its parent")
    modes = {m.code: m for m in base.modes}
    order = [m.code for m in base.modes]
    sources = {code: ("same", (code,)) for code in order}
    retired: list[str] = []
    for i, change in enumerate(changes):
        _apply(change, f"changes[{i}] ({change.kind})", modes, order, sources, retired, base)
    new = Taxonomy(name=base.name, version=version, modes=tuple(modes[c] for c in order),
                   description=base.description, parent=base.ref)
    return Plan(taxonomy=new, sources={c: sources[c] for c in order}, retired=tuple(retired))


def _require(code: str, modes: dict, where: str, base: Taxonomy) -> None:
    if code not in modes:
        raise TaxonomyError(f"{where}: {base.ref} has no mode {code!r} (at this point of the changes)")


def _apply(change: Change, where: str, modes: dict, order: list, sources: dict, retired: list,
           base: Taxonomy) -> None:
    if change.kind in ("edit", "rename", "retire", "split"):
        _require(change.code, modes, where, base)
    if change.kind == "edit":
        if not change.definition:
            raise TaxonomyError(f"{where}: needs a new 'definition'")
        modes[change.code] = replace(modes[change.code], definition=change.definition)
        kind, olds = sources[change.code]
        sources[change.code] = ("edit" if kind in ("same", "rename") else kind, olds)
    elif change.kind == "rename":
        if not change.name:
            raise TaxonomyError(f"{where}: needs a new 'name'")
        old = modes[change.code]
        modes[change.code] = replace(old, name=change.name, aliases=tuple(dict.fromkeys((*old.aliases, old.name))))
        if sources[change.code][0] == "same":
            sources[change.code] = ("rename", sources[change.code][1])
    elif change.kind == "retire":
        retired.extend(sources.pop(change.code)[1])
        del modes[change.code]
        order.remove(change.code)
    elif change.kind == "add":
        _insert(change.modes[0], where, modes, order, after=None)
        sources[change.modes[0].code] = ("add", ())
    elif change.kind == "merge":
        _merge(change, where, modes, order, sources, base)
    elif change.kind == "split":
        _split(change, where, modes, order, sources)
    elif change.kind == "recode":
        _recode(change, where, modes, order, sources, base)


def _recode(change: Change, where: str, modes: dict, order: list, sources: dict, base: Taxonomy) -> None:
    """Renumber codes simultaneously (so 1.2 -> 2.6 and 2.6 -> 1.2 in one change is fine)."""
    renames = dict(change.recode)
    for old in renames:
        _require(old, modes, where, base)
    final = [renames.get(c, c) for c in order]
    if len(set(final)) != len(final):
        raise TaxonomyError(f"{where}: two modes would share a code")
    moved = {renames.get(c, c): (replace(modes[c], code=renames.get(c, c)), sources[c]) for c in order}
    modes.clear()
    sources.clear()
    for code, (mode, source) in moved.items():
        modes[code] = mode
        sources[code] = source
    order[:] = final


def _insert(mode: Mode, where: str, modes: dict, order: list, *, after: int | None) -> None:
    if mode.code in modes:
        raise TaxonomyError(f"{where}: code {mode.code!r} is already taken")
    modes[mode.code] = mode
    order.insert(len(order) if after is None else after, mode.code)


def _merge(change: Change, where: str, modes: dict, order: list, sources: dict, base: Taxonomy) -> None:
    if len(set(change.codes)) < 2:
        raise TaxonomyError(f"{where}: needs at least two different codes to merge")
    for code in change.codes:
        _require(code, modes, where, base)
    position = min(order.index(c) for c in change.codes)
    olds = tuple(old for c in change.codes for old in sources.pop(c)[1])
    for code in change.codes:
        del modes[code]
        order.remove(code)
    _insert(change.modes[0], where, modes, order, after=position)
    sources[change.modes[0].code] = ("merge", olds)


def _split(change: Change, where: str, modes: dict, order: list, sources: dict) -> None:
    if len(change.modes) < 2:
        raise TaxonomyError(f"{where}: a split needs at least two new modes under 'into'")
    kind, olds = sources.pop(change.code)
    if len(olds) != 1:
        raise TaxonomyError(f"{where}: cannot split a mode that was merged or added in the same refinement")
    position = order.index(change.code)
    del modes[change.code]
    order.remove(change.code)
    for offset, part in enumerate(change.modes):
        _insert(part, where, modes, order, after=position + offset)
        sources[part.code] = ("split", olds)


def carry(old_values: dict[str, int], new_plan: Plan) -> tuple[dict[str, tuple[int, bool]], bool]:
    """One rater's labels of one segment under the old version -> (new code -> (value, stale), needs relabel).

    Modes whose value is not determined by the old labels are left out (missing). `needs relabel` is
    true when a split mode was present, so its parts must be labelled again.

    >>> p = plan(Taxonomy("t", "1", (Mode("a", "A", "c", "d"), Mode("b", "B", "c", "d"))),
    ...          [Change("merge", codes=("a", "b"), modes=(Mode("ab", "AB", "c", "d"),))], version="2")
    >>> carry({"a": 0, "b": 1}, p)
    ({'ab': (1, False)}, False)
    """
    out: dict[str, tuple[int, bool]] = {}
    relabel = False
    for code, (kind, olds) in new_plan.sources.items():
        given = [old_values[o] for o in olds if o in old_values]
        if kind in ("same", "rename", "edit") and given:
            out[code] = (given[0], kind == "edit")
        elif kind == "merge" and given and (any(given) or len(given) == len(olds)):
            out[code] = (int(any(given)), False)
        elif kind == "split" and given:
            if given[0] == 0:
                out[code] = (0, False)
            else:
                relabel = True
    return out, relabel
