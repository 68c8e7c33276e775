"""Failure-mode taxonomies: loading, validation, fingerprints and version mappings.

Pure core: no database, no UI. A taxonomy is a named, versioned, ordered list of modes; its
fingerprint is a hash of its content, so two files that say the same thing have the same identity.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.core.errors import UserError
from annotator.resources import TAXONOMY_DIR

BUILTIN_TAXONOMIES = {"mast": TAXONOMY_DIR / "mast.yaml"}
MAST_DRAFTS_MAPPING = TAXONOMY_DIR / "mast-drafts-mapping.yaml"


class TaxonomyError(UserError, ValueError):
    """A taxonomy or mapping file is malformed; the message names the file and field."""


@dataclass(frozen=True)
class Mode:
    """One failure mode. The code is its identity within a taxonomy."""

    code: str
    name: str
    category: str
    definition: str
    aliases: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "definition": self.definition,
            "aliases": list(self.aliases),
            "note": self.note,
        }


@dataclass(frozen=True)
class Taxonomy:
    """A named, versioned list of modes, in display order."""

    name: str
    version: str
    modes: tuple[Mode, ...]
    description: str = ""
    is_draft: bool = False
    parent: str | None = None  # "name@version" this one was refined from

    @property
    def ref(self) -> str:
        """The `NAME@VERSION` string users type."""
        return f"{self.name}@{self.version}"

    @property
    def codes(self) -> list[str]:
        return [m.code for m in self.modes]

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical content (modes in order); names the content, not the file."""
        payload = json.dumps(
            {"name": self.name, "modes": [m.to_dict() for m in self.modes]},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def mode(self, code: str) -> Mode:
        for m in self.modes:
            if m.code == code:
                return m
        raise KeyError(f"{self.ref} has no mode {code!r}")

    def categories(self) -> list[tuple[str, list[Mode]]]:
        """Modes grouped by category, categories in order of first appearance."""
        groups: dict[str, list[Mode]] = {}
        for m in self.modes:
            groups.setdefault(m.category, []).append(m)
        return list(groups.items())

    def resolve(self, code_or_name: str) -> Mode:
        """Find a mode by code, name or alias (case-insensitive for names)."""
        wanted = code_or_name.strip().lower()
        for m in self.modes:
            if m.code == code_or_name.strip():
                return m
        for m in self.modes:
            if wanted == m.name.lower() or wanted in (a.lower() for a in m.aliases):
                return m
        raise KeyError(f"{self.ref} has no mode named {code_or_name!r}")


@dataclass(frozen=True)
class Mapping:
    """How codes of one taxonomy version map onto another. None means the mode was dropped."""

    source: str  # "name@version"
    target: str
    codes: dict[str, str | None] = field(default_factory=dict)

    def map_labels(self, labels: dict[str, int]) -> dict[str, int]:
        """Carry labels across: a target code is positive when any source code mapping to it is."""
        out: dict[str, int] = {}
        for code, value in labels.items():
            target = self.codes.get(code)
            if target is not None:
                out[target] = max(out.get(target, 0), int(value))
        return out


def parse_ref(ref: str) -> tuple[str, str | None]:
    """Split `NAME[@VERSION]` into (name, version or None)."""
    name, _, version = ref.partition("@")
    if not name:
        raise TaxonomyError(f"taxonomy reference {ref!r}: expected NAME or NAME@VERSION")
    return name, (version or None)


def _read_structured(path: Path) -> Any:
    import yaml  # pyyaml is light, but only readers of taxonomy files need it

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot read: {exc}") from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0]
        raise TaxonomyError(f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {reason}") from exc


def _require_str(obj: dict, key: str, where: str) -> str:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise TaxonomyError(f"{where}: missing field {key!r}")
    return str(value).strip()


def taxonomy_from_dict(data: Any, *, where: str = "taxonomy") -> Taxonomy:
    """Validate a parsed taxonomy document and build a Taxonomy."""
    if not isinstance(data, dict):
        raise TaxonomyError(f"{where}: expected a mapping with 'name', 'version' and 'modes'")
    name = _require_str(data, "name", where)
    version = _require_str(data, "version", where)
    raw_modes = data.get("modes")
    if not isinstance(raw_modes, list) or not raw_modes:
        raise TaxonomyError(f"{where}: field 'modes' must be a non-empty list")
    modes = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_modes):
        at = f"{where}: modes[{i}]"
        if not isinstance(raw, dict):
            raise TaxonomyError(f"{at}: expected a mapping")
        code = _require_str(raw, "code", at)
        if code in seen:
            raise TaxonomyError(f"{at}: duplicate code {code!r}")
        seen.add(code)
        aliases = raw.get("aliases") or []
        if not isinstance(aliases, list):
            raise TaxonomyError(f"{at}: field 'aliases' must be a list")
        modes.append(
            Mode(
                code=code,
                name=_require_str(raw, "name", at),
                category=_require_str(raw, "category", at),
                definition=" ".join(_require_str(raw, "definition", at).split()),
                aliases=tuple(str(a).strip() for a in aliases),
                note=" ".join(str(raw.get("note") or "").split()),
            )
        )
    return Taxonomy(
        name=name,
        version=version,
        modes=tuple(modes),
        description=" ".join(str(data.get("description") or "").split()),
        is_draft=bool(data.get("draft", False)),
        parent=data.get("parent"),
    )


def load_taxonomy(path_or_name: str | Path) -> Taxonomy:
    """Load a taxonomy from a YAML/JSON file, or a built-in one by name (`mast`)."""
    key = str(path_or_name)
    path = BUILTIN_TAXONOMIES.get(key, Path(key))
    if not path.is_file():
        known = ", ".join(sorted(BUILTIN_TAXONOMIES))
        raise TaxonomyError(f"{path}: no such taxonomy file (built-in names: {known})")
    return taxonomy_from_dict(_read_structured(path), where=str(path))


def load_mast_draft_mappings(path: Path = MAST_DRAFTS_MAPPING) -> dict[str, Mapping]:
    """The shipped mapping of MAST draft codes (per annotation round) onto mast@1."""
    data = _read_structured(path)
    target = data.get("target") if isinstance(data, dict) else None
    drafts = data.get("drafts") if isinstance(data, dict) else None
    if not target or not isinstance(drafts, dict):
        raise TaxonomyError(f"{path}: expected fields 'target' and 'drafts'")
    name = parse_ref(target)[0]
    return {
        draft: Mapping(
            source=f"{name}@draft-{draft}",
            target=target,
            codes={str(k): (None if v is None else str(v)) for k, v in codes.items()},
        )
        for draft, codes in drafts.items()
    }
