"""Reading taxonomy and mapping documents (YAML or JSON) within bounds, before anything trusts them.

- Depth: at most MAX_JSON_DEPTH levels (JSON is checked before parsing; YAML while composing, since
  PyYAML composes recursively and would end in a RecursionError).
- Aliases: YAML anchors and aliases are allowed (the shipped draft mapping reuses one round's codes), but
  the document they expand to is bounded by MAX_EXPANDED_NODES. PyYAML shares an aliased value instead of
  copying it, so a "billion laughs" file loads small and explodes later, when something walks it
  (str(), json.dumps for the fingerprint): the expanded size is what counts. Cycles are refused too.
- Codes and versions: a YAML `code:` or `version:` written without quotes is read as a number (`2.10`
  becomes 2.1, `010` becomes 8), silently naming another mode or version. It is refused with the line and
  the text as written, asking for quotes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotator.core.errors import UserError
from annotator.core.jsonlimits import MAX_JSON_DEPTH, JsonTooDeepError, loads_bounded

MAX_EXPANDED_NODES = 100_000
_TEXT_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:null")  # null: reported as a missing code


class DocumentError(UserError, ValueError):
    """A taxonomy or mapping document that cannot be read; the message names the file and the place."""


def read_structured(path: Path) -> Any:
    """The parsed document of a .json file, else of a YAML file (DocumentError naming `path` when bad)."""
    import yaml  # pyyaml is light, but only readers of taxonomy files need it

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: cannot read: {exc}") from exc
    kind = path.suffix.lstrip(".") or "YAML"
    try:
        if path.suffix.lower() == ".json":
            return loads_bounded(text)
        return _load_yaml(text, path)
    except JsonTooDeepError as exc:
        raise DocumentError(f"{path}: {exc}") from None
    except (ValueError, yaml.YAMLError) as exc:  # json.JSONDecodeError is a ValueError
        if isinstance(exc, DocumentError):
            raise
        reason = str(exc).splitlines()[0]
        raise DocumentError(f"{path}: not valid {kind}: {reason}") from exc


def _load_yaml(text: str, path: Path) -> Any:
    loader = _bounded_loader_class()(text)
    loader.where = path
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, path)
        _check_codes(node, path)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _bounded_loader_class():
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """SafeLoader that refuses nesting beyond MAX_JSON_DEPTH while composing (PyYAML recurses)."""

        depth = 0
        where: Path

        def compose_node(self, parent, index):
            self.depth += 1
            try:
                if self.depth > MAX_JSON_DEPTH:
                    line = self.peek_event().start_mark.line + 1
                    raise DocumentError(f"{self.where}: line {line}: nested deeper than {MAX_JSON_DEPTH} levels")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def _children(node) -> list:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root, path: Path) -> None:
    """Refuse a document whose aliases expand it beyond MAX_EXPANDED_NODES, or that refers to itself."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in _children(node)), MAX_EXPANDED_NODES + 1)
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                raise DocumentError(f"{path}: line {node.start_mark.line + 1}: YAML aliases expand the document "
                                    f"beyond {MAX_EXPANDED_NODES:,} values (an alias bomb?); write the values out")
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            raise DocumentError(f"{path}: line {node.start_mark.line + 1}: a YAML alias refers to a value "
                                "that contains it")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


_IDENTIFYING_KEYS = ("code", "version")


def _check_codes(root, path: Path) -> None:
    """Refuse `code:` and `version:` values that YAML reads as something other than text (numbers, true/false)."""
    import yaml

    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if (isinstance(key, yaml.ScalarNode) and key.value in _IDENTIFYING_KEYS
                        and isinstance(value, yaml.ScalarNode) and value.tag not in _TEXT_TAGS):
                    raise DocumentError(
                        f"{path}: line {value.start_mark.line + 1}: {key.value} {value.value} is written without "
                        f"quotes, so YAML reads it as a {value.tag.rsplit(':', 1)[-1]}, not as the text "
                        f"{value.value!r} (2.10 would become 2.1); write it in quotes: {key.value}: \"{value.value}\"")
        stack.extend(_children(node))
