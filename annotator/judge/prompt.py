"""Judge prompts: Jinja2 templates with a short YAML front matter, versioned by content.

A prompt file looks like::

    ---
    name: mast-judge
    description: ...
    temperature: 0
    max_tokens: 3000
    ---
    (system instructions, Jinja2)
    --- user ---
    (the user message, Jinja2: taxonomy, trace, segment, text, begin, end, answer_format)

Its version is the first 12 hex digits of the SHA-256 of the file's bytes, so any edit (even to the
front matter) is a new version and a new judge rater. The part before the line `--- user ---` is
the system message; without that line the whole body is one user message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core.errors import UserError
from annotator.core.taxonomy import Taxonomy
from annotator.resources import PROMPTS_DIR

DEFAULT_PROMPT = PROMPTS_DIR / "mast_judge.md"
USER_PROMPTS_DIR = Path("prompts")  # a team's own prompts: *.md in prompts/ of the working directory
USER_SEPARATOR = "--- user ---"
_FRONT_KEYS = {"name": str, "description": str, "temperature": (int, float), "max_tokens": int}


class PromptError(UserError, ValueError):
    """A prompt file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class JudgePrompt:
    path: Path
    version: str
    name: str
    body: str
    description: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    meta: dict = field(default_factory=dict)
    examples: tuple[dict, ...] = ()  # few-shot examples from the front matter: {"text", "labels", "note"}
    text: str = ""  # the whole file as read: what the version hashes


def prompt_version(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:12]


def _split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            import yaml

            try:
                meta = yaml.safe_load("".join(lines[1:i])) or {}
            except yaml.YAMLError as exc:
                raise PromptError(f"{path}: front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
            if not isinstance(meta, dict):
                raise PromptError(f"{path}: front matter must be a mapping")
            return meta, "".join(lines[i + 1:])
    raise PromptError(f"{path}: front matter opened with '---' is never closed")


def _check_meta(meta: dict, path: Path) -> None:
    for key, kind in _FRONT_KEYS.items():
        if key in meta and meta[key] is not None and (not isinstance(meta[key], kind) or isinstance(meta[key], bool)):
            raise PromptError(f"{path}: front matter field {key!r} has the wrong type")


def _examples(meta: dict, path: Path) -> tuple[dict, ...]:
    """Few-shot examples: a list of {text: str, labels: {code: 0|1}, note: str (optional)}."""
    raw = meta.get("examples") or []
    if not isinstance(raw, list):
        raise PromptError(f"{path}: front matter field 'examples' must be a list")
    out = []
    for i, example in enumerate(raw):
        if not isinstance(example, dict) or not isinstance(example.get("text"), str):
            raise PromptError(f"{path}: examples[{i}] needs a string 'text'")
        labels = example.get("labels") or {}
        if not isinstance(labels, dict) or any(v not in (0, 1) or isinstance(v, bool) for v in labels.values()):
            raise PromptError(f"{path}: examples[{i}].labels must map codes to 0 or 1")
        out.append({"text": example["text"], "labels": {str(k): int(v) for k, v in labels.items()},
                    "note": str(example.get("note") or "")})
    return tuple(out)


def examples_in(text: str, where: str = "prompt") -> tuple[dict, ...]:
    """The few-shot examples a prompt's text declares in its front matter (PromptError if malformed)."""
    meta, _ = _split_front_matter(text, Path(where))
    return _examples(meta, Path(where))


def load_prompt(path: str | Path = DEFAULT_PROMPT) -> JudgePrompt:
    """Read and check a prompt file (front matter and template syntax)."""
    path = Path(path)
    try:
        content = path.read_bytes()
        text = content.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: cannot read prompt: {exc}") from None
    meta, body = _split_front_matter(text, path)
    _check_meta(meta, path)
    prompt = JudgePrompt(path=path, version=prompt_version(content), name=str(meta.get("name") or path.stem),
                         body=body, description=str(meta.get("description") or ""),
                         temperature=meta.get("temperature"), max_tokens=meta.get("max_tokens"), meta=meta,
                         examples=_examples(meta, path), text=text)
    _compile(prompt)  # fail early, naming the line
    return prompt


def shipped_prompts() -> list[Path]:
    """The prompts that ship inside the package, by name."""
    return sorted(PROMPTS_DIR.glob("*.md"))


def user_prompts(directory: Path = USER_PROMPTS_DIR) -> list[Path]:
    """A team's own prompts: the *.md files in `directory` (default ./prompts/), by name; none if it is absent."""
    return sorted(p for p in directory.glob("*.md") if p.is_file()) if directory.is_dir() else []


def copy_prompt(dest: Path, *, source: Path = DEFAULT_PROMPT, overwrite: bool = False) -> Path:
    """Write an editable copy of a shipped prompt to `dest` (a file, or a folder to put it in) and return
    its path. The copy is byte for byte, so it has the shipped prompt's version until it is edited."""
    dest = dest / source.name if dest.is_dir() else dest
    if dest.exists() and not overwrite:
        raise PromptError(f"{dest}: already exists (--force replaces it)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(source.read_bytes())
    return dest


def _compile(prompt: JudgePrompt):
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True)
    try:
        return env.from_string(prompt.body)
    except jinja2.TemplateSyntaxError as exc:
        raise PromptError(f"{prompt.path}: template error at body line {exc.lineno}: {exc.message}") from None


def taxonomy_view(taxonomy: Taxonomy) -> dict:
    """The taxonomy as plain data for templates."""
    def mode(m):
        return {"code": m.code, "name": m.name, "category": m.category, "definition": m.definition,
                "aliases": list(m.aliases), "note": m.note}
    return {
        "name": taxonomy.name, "version": taxonomy.version, "ref": taxonomy.ref, "description": taxonomy.description,
        "codes": taxonomy.codes, "modes": [mode(m) for m in taxonomy.modes],
        "categories": [{"name": name, "modes": [mode(m) for m in modes]} for name, modes in taxonomy.categories()],
    }


def answer_format(codes: list[str]) -> str:
    """The exact JSON shape the judge must answer with, every code listed."""
    modes = ", ".join(f'"{c}": {{"present": true|false, "evidence": "<short quote or empty>"}}' for c in codes)
    return '{"modes": {' + modes + '}, "summary": "<one or two sentences>"}'


def delimiters(content_hash: str) -> tuple[str, str]:
    """Begin/end markers around the segment; the tag depends on the content, so a trace cannot forge it."""
    tag = hashlib.sha256(f"segment-delimiter:{content_hash}".encode()).hexdigest()[:12]
    return f"<<<TRACE SEGMENT {tag}>>>", f"<<<END OF TRACE SEGMENT {tag}>>>"


class PromptRenderer:
    """A prompt compiled once and bound to a taxonomy; renders the messages for one segment."""

    def __init__(self, prompt: JudgePrompt, taxonomy: Taxonomy):
        self.prompt = prompt
        self.template = _compile(prompt)
        self.taxonomy = taxonomy_view(taxonomy)
        self.answer_format = answer_format(taxonomy.codes)
        self.schema = response_schema(taxonomy.codes)

    def messages(self, *, text: str, context: dict, content_hash: str, cut_chars: int = 0) -> list[dict]:
        begin, end = delimiters(content_hash)
        rendered = self.template.render(taxonomy=self.taxonomy, trace=context.get("trace", {}),
                                        segment=context.get("segment", {}), text=text, cut_chars=cut_chars,
                                        begin=begin, end=end, answer_format=self.answer_format,
                                        examples=self.prompt.examples)
        system, sep, user = rendered.partition(f"\n{USER_SEPARATOR}\n")
        if not sep:
            return [{"role": "user", "content": rendered.strip()}]
        return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]


def response_schema(codes: list[str]) -> dict:
    """JSON schema of the answer, for providers that support structured output."""
    mode = {"type": "object", "additionalProperties": False, "required": ["present", "evidence"],
            "properties": {"present": {"type": "boolean"}, "evidence": {"type": "string"}}}
    return {
        "type": "object", "additionalProperties": False, "required": ["modes", "summary"],
        "properties": {
            "modes": {"type": "object", "additionalProperties": False, "required": list(codes),
                      "properties": {c: mode for c in codes}},
            "summary": {"type": "string"},
        },
    }


def context_hash(context: dict) -> str:
    """Identity of what is shown beside the segment text (trace metadata, segment position)."""
    return hashlib.sha256(json.dumps(context, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def cut_middle(text: str, keep: int, *, head_share: float = 0.6) -> tuple[str, int]:
    """Keep about `keep` characters, the first 60% and the last 40%, and say how much was cut.

    The cut snaps to line breaks near the edges when there is one within 200 characters. Returns the
    new text (with a visible marker `[... N characters cut ...]`) and N.
    """
    if keep >= len(text):
        return text, 0
    keep = max(0, keep)
    head_end = int(keep * head_share)
    tail_start = len(text) - (keep - head_end)
    newline = text.rfind("\n", max(0, head_end - 200), head_end)
    head_end = newline + 1 if newline > 0 else head_end
    newline = text.find("\n", tail_start, min(len(text), tail_start + 200))
    tail_start = newline + 1 if newline >= 0 else tail_start
    cut = tail_start - head_end
    return f"{text[:head_end]}\n[... {cut} characters cut ...]\n{text[tail_start:]}", cut
