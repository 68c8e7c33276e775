"""What a judge run will do: options, the segments and samples to judge, cache keys, the dry-run estimate.

Planning only reads the database. A (segment, sample) whose cache key has a successful call already
is not called again; the cache key is

    sha256(model, prompt version, taxonomy fingerprint, segment content hash, context hash,
           parameters {temperature, max_tokens, max_input_tokens, structured_output}, sample index)

where the context hash covers what the prompt shows beside the text (trace metadata, segment position).
The api_base, timeouts, retries and concurrency are not part of it: they change where and how a
model is reached, not which model answers. Point the same model name at a different model and you
must pass --refresh (or use another model name).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from annotator import store
from annotator.core.errors import OptionError
from annotator.judge.prompt import DEFAULT_PROMPT, JudgePrompt, PromptRenderer, context_hash, cut_middle, load_prompt

SEGMENT_CHOICES = ("all", "gold", "unlabelled")
DEFAULT_MAX_INPUT_TOKENS = 100_000
DEFAULT_MAX_TOKENS = 3000
_MESSAGE_OVERHEAD = 8  # tokens a chat format adds per message, at most


@dataclass(frozen=True)
class JudgeOptions:
    """Everything `annotator judge run` takes. Keyword-only by convention; all but model have defaults."""

    model: str
    prompt_path: str | Path = DEFAULT_PROMPT
    taxonomy: str = "mast"
    segments: str = "all"
    segment_ids: tuple[int, ...] | None = None  # an explicit list instead of `segments` (demo, tests)
    limit: int | None = None
    concurrency: int = 8
    processes: int = 1  # client processes sharing the slots (parallel.py): for servers faster than one can call
    samples: int = 1
    api_base: str | None = None
    api_key_env: str | None = None  # name of the environment variable holding the key (never the key itself)
    timeout: float = 120.0
    max_attempts: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    retry_after_cap: float = 60.0  # seconds: the longest Retry-After honoured (a longer one waits this long)
    unreachable_after: int | None = None  # connection failures in a row that end the run; None: 2 x concurrency, >= 8
    max_input_tokens: int | None = None
    temperature: float | None = None  # None: the prompt's front matter
    max_tokens: int | None = None  # None: the prompt's front matter, else DEFAULT_MAX_TOKENS
    structured_output: str = "auto"  # auto | on | off
    refresh: bool = False  # call even where the cache has an answer
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    mock_responses: Mapping[int, Any] | None = None  # segment id -> litellm mock_response, or f(messages) -> one

    def check(self) -> None:
        if self.segments not in SEGMENT_CHOICES:
            raise OptionError(f"--segments {self.segments!r}: expected one of {', '.join(SEGMENT_CHOICES)}")
        for name, value, low in (("concurrency", self.concurrency, 1), ("processes", self.processes, 1),
                                 ("samples", self.samples, 1),
                                 ("max_attempts", self.max_attempts, 1), ("limit", self.limit, 0)):
            if value is not None and value < low:
                raise OptionError(f"--{name.replace('_', '-')} must be at least {low}, not {value}")
        if self.processes > 1 and self.mock_responses is not None:
            raise OptionError("mock responses live in this process: they cannot be given to --processes > 1")
        if self.timeout <= 0:
            raise OptionError(f"--timeout must be positive, not {self.timeout}")
        if self.unreachable_after is not None and self.unreachable_after < 1:
            raise OptionError(f"unreachable_after must be at least 1, not {self.unreachable_after}")
        if self.structured_output not in ("auto", "on", "off"):
            raise OptionError(f"--structured-output {self.structured_output!r}: expected auto, on or off")
        if self.api_key_env and not os.environ.get(self.api_key_env):
            raise OptionError(f"--api-key-env {self.api_key_env}: that environment variable is not set")
        if (self.input_cost_per_token is None) != (self.output_cost_per_token is None):
            raise OptionError("give both --input-cost-per-token and --output-cost-per-token, or neither")


def rater_name(model: str, prompt: JudgePrompt) -> str:
    return f"judge:{model}@{prompt.version}"


@dataclass(frozen=True)
class Job:
    segment: store.JudgeSegment
    sample: int
    cache_key: str
    context: dict


@dataclass
class RunPlan:
    options: JudgeOptions
    prompt: JudgePrompt
    taxonomy: store.StoredTaxonomy
    rater: str
    params: dict  # the parameters that are part of the cache key
    input_limit: int
    jobs: list[Job] = field(default_factory=list)  # to call
    cached: list[tuple[Job, str]] = field(default_factory=list)  # (job, parsed judgement JSON)

    @property
    def total(self) -> int:
        return len(self.jobs) + len(self.cached)

    @property
    def temperature(self) -> float | None:
        return self.params["temperature"]

    @property
    def max_tokens(self) -> int:
        return self.params["max_tokens"]

    @property
    def structured(self) -> bool:
        return self.params["structured_output"]


def cache_key(*, model: str, prompt_version: str, segment_hash: str, context: str, params: dict, sample: int) -> str:
    payload = json.dumps({"model": model, "prompt_version": prompt_version, "segment": segment_hash,
                          "context": context, "params": params, "sample": sample}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def resolve(db: sqlite_utils.Database, options: JudgeOptions) -> tuple[JudgePrompt, store.StoredTaxonomy, str]:
    """Prompt, taxonomy and rater name: cheap, no litellm (what a run row needs before planning)."""
    options.check()
    prompt = load_prompt(options.prompt_path)
    return prompt, store.get_taxonomy(db, options.taxonomy), rater_name(options.model, prompt)


def input_limit(options: JudgeOptions) -> int:
    """Tokens the prompt may use: --max-input-tokens, capped by the model's known limit."""
    from annotator.judge import llm

    known = llm.context_limit(options.model)
    if options.max_input_tokens:
        return min(options.max_input_tokens, known) if known else options.max_input_tokens
    return known or DEFAULT_MAX_INPUT_TOKENS


def key_params(options: JudgeOptions, prompt: JudgePrompt, taxonomy: store.StoredTaxonomy, limit: int) -> dict:
    from annotator.judge import llm

    temperature = options.temperature if options.temperature is not None else prompt.temperature
    structured = {"on": True, "off": False}.get(options.structured_output)
    if structured is None:
        structured = llm.supports_structured_output(options.model)
    return {"temperature": temperature, "max_tokens": options.max_tokens or prompt.max_tokens or DEFAULT_MAX_TOKENS,
            "max_input_tokens": limit, "structured_output": structured,
            "taxonomy": taxonomy.taxonomy.fingerprint}


def _contexts(db: sqlite_utils.Database, segments: list[store.JudgeSegment]) -> dict[int, dict]:
    traces: dict[int, dict] = {}
    out = {}
    for seg in segments:
        if seg.trace_id not in traces:
            t = store.get_trace(db, seg.trace_id)
            traces[seg.trace_id] = {"id": t.external_id, "framework": t.framework, "benchmark": t.benchmark,
                                    "llm": t.llm, "tags": t.tags, "chars": t.n_chars}
        out[seg.id] = {"trace": traces[seg.trace_id],
                       "segment": {"scheme": seg.scheme, "index": seg.idx, "kind": seg.kind, "speaker": seg.speaker,
                                   "start": seg.start, "end": seg.end, "chars": seg.end - seg.start}}
    return out


def plan_run(db: sqlite_utils.Database, options: JudgeOptions) -> RunPlan:
    """Choose segments and samples, compute cache keys, split into cached and to-call. Writes nothing."""
    from annotator.judge import llm

    prompt, taxonomy, rater = resolve(db, options)
    if options.mock_responses is None:
        llm.check_model(options.model, options.api_base)
    if options.input_cost_per_token is not None:
        llm.register_price(options.model, options.input_cost_per_token, options.output_cost_per_token)
    limit = input_limit(options)
    params = key_params(options, prompt, taxonomy, limit)
    if options.segment_ids is not None:
        segments = store.judge_segments_by_id(db, options.segment_ids)[:options.limit]
    else:
        segments = store.select_judge_segments(db, options.segments, limit=options.limit)
    contexts = _contexts(db, segments)
    jobs = []
    for seg in segments:
        ctx_hash = context_hash(contexts[seg.id])
        for sample in range(options.samples):
            key = cache_key(model=options.model, prompt_version=prompt.version, segment_hash=seg.content_hash,
                            context=ctx_hash, params=params, sample=sample)
            jobs.append(Job(seg, sample, key, contexts[seg.id]))
    plan = RunPlan(options, prompt, taxonomy, rater, params, limit)
    hits = {} if options.refresh else store.cached_judgements(db, [j.cache_key for j in jobs])
    for job in jobs:
        if job.cache_key in hits:
            plan.cached.append((job, hits[job.cache_key]))
        else:
            plan.jobs.append(job)
    return plan


class Fitter:
    """Renders a segment's messages and, when they exceed the input limit, cuts the middle of the text."""

    def __init__(self, plan: RunPlan):
        self.plan = plan
        self.renderer = PromptRenderer(plan.prompt, plan.taxonomy.taxonomy)
        self.budget = max(plan.input_limit - plan.max_tokens, plan.input_limit // 2)

    def count(self, messages: list[dict]) -> int:
        from annotator.judge import llm

        return llm.count_tokens(self.plan.options.model, messages)

    def _surely_fits(self, messages: list[dict]) -> bool:
        """Byte-level tokenizers never make more tokens than UTF-8 bytes: skip counting when that fits."""
        overhead = _MESSAGE_OVERHEAD * (len(messages) + 1)
        chars = sum(len(m["content"]) for m in messages)
        if chars * 4 + overhead <= self.budget:
            return True
        return sum(len(m["content"].encode("utf-8", "surrogatepass")) for m in messages) + overhead <= self.budget

    def fit(self, text: str, job: Job) -> tuple[list[dict], int]:
        """Messages for the job and the number of characters cut (0 when the text fits)."""
        render = self.renderer.messages
        ctx, digest = job.context, job.segment.content_hash
        messages = render(text=text, context=ctx, content_hash=digest)
        if self._surely_fits(messages):
            return messages, 0
        total = self.count(messages)
        if total <= self.budget:
            return messages, 0
        base = self.count(render(text="", context=ctx, content_hash=digest, cut_chars=10 ** 9))
        room = self.budget - base
        if room <= 0:
            raise OptionError(f"the prompt alone needs {base} tokens, more than the {self.budget} allowed")
        keep = int(len(text) * room / max(1, total - base) * 0.97)
        for _ in range(8):
            cut_text, cut = cut_middle(text, keep)
            messages = render(text=cut_text, context=ctx, content_hash=digest, cut_chars=cut)
            total = self.count(messages)
            if total <= self.budget:
                return messages, cut
            keep = int(keep * self.budget / total * 0.95)
        raise OptionError(f"could not cut the segment to fit {self.budget} tokens")


@dataclass(frozen=True)
class Estimate:
    """What `judge run --dry-run` prints."""

    rater: str
    total: int
    cached: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    truncated: int
    cost: float | None  # None where the model's price is unknown
    input_limit: int
    batch_cost: float | None = None  # the same tokens at the provider's batch price; None where litellm lacks it


def estimate(db: sqlite_utils.Database, plan: RunPlan) -> Estimate:
    """Count the tokens each call would send (after any cut) and price them where litellm knows the model."""
    from annotator.judge import batch_api, llm

    fitter = Fitter(plan)
    codes = len(plan.taxonomy.taxonomy.codes)
    per_answer = min(plan.max_tokens, 40 * codes + 60)  # an answer quotes short evidence for a few modes
    prompt_tokens = truncated = 0
    tokens_of: dict[int, tuple[int, int]] = {}
    for job in plan.jobs:
        if job.segment.id not in tokens_of:
            segment = store.get_segment(db, job.segment.id)
            messages, cut = fitter.fit(segment.text, job)
            tokens_of[job.segment.id] = (fitter.count(messages), int(cut > 0))
        prompt_tokens += tokens_of[job.segment.id][0]
        truncated += tokens_of[job.segment.id][1]
    completion_tokens = per_answer * len(plan.jobs)
    cost = llm.estimate_cost(plan.options.model, prompt_tokens, completion_tokens) if plan.jobs else 0.0
    prices = batch_api.batch_prices(plan.options.model)
    batch_cost = batch_api.batch_cost(prices, prompt_tokens, completion_tokens) if plan.jobs else 0.0
    return Estimate(plan.rater, plan.total, len(plan.cached), len(plan.jobs), prompt_tokens, completion_tokens,
                    truncated, cost, plan.input_limit, batch_cost)
