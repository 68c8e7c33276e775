"""litellm's files and batches API, as a batch run uses it: which providers batch, upload, submit, poll,
download, and batch prices. litellm itself is reached through `llm.lib()` (imported on first use).

A batch is OpenAI's format: a JSONL file of `{"custom_id", "method": "POST", "url": "/v1/chat/completions",
"body"}` lines; its output and error files hold one `{"custom_id", "response": {"status_code", "body"},
"error"}` line per request. litellm translates this for Azure, Vertex AI, Bedrock and the others it batches.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass

from annotator.core.errors import OptionError
from annotator.judge import llm

ENDPOINT = "/v1/chat/completions"
TERMINAL = ("completed", "failed", "expired", "cancelled")


def batch_providers() -> tuple[str, ...]:
    """The providers litellm's create_batch accepts, read from its own signature (so an upgrade updates it)."""
    annotation = inspect.signature(llm.lib().create_batch).parameters["custom_llm_provider"].annotation
    return tuple(typing.get_args(annotation))


def batch_target(model: str, api_base: str | None) -> tuple[str, str]:
    """(provider, the model name a batch line's body carries); a provider litellm cannot batch is refused."""
    try:
        name, provider, _, _ = llm.lib().get_llm_provider(model=model, api_base=api_base)
    except Exception:  # noqa: BLE001 (check_model has already named an unknown provider in one line)
        name, provider = model.split("/", 1)[-1], model.split("/", 1)[0]
    providers = batch_providers()
    if provider not in providers:
        raise OptionError(f"--batch: litellm cannot batch {provider} models ({model}); it batches "
                          f"{', '.join(providers)}. Run without --batch, or through a LiteLLM proxy (litellm_proxy/)")
    return provider, name


def batch_prices(model: str) -> tuple[float, float] | None:
    """USD per input and output token at the provider's batch price, where litellm's model map knows it.

    Never derived from the live price: a provider's batch discount is its own (OpenAI's is half), so an
    unknown batch price stays unknown.
    """
    try:
        info = llm.lib().get_model_info(model)
    except Exception:  # litellm raises a variety of errors for unmapped models
        return None
    prices = info.get("input_cost_per_token_batches"), info.get("output_cost_per_token_batches")
    if prices[0] is None or prices[1] is None:
        return None
    return float(prices[0]), float(prices[1])


def batch_cost(prices: tuple[float, float] | None, prompt_tokens: int | None,
               completion_tokens: int | None) -> float | None:
    if prices is None or prompt_tokens is None or completion_tokens is None:
        return None
    return prompt_tokens * prices[0] + completion_tokens * prices[1]


@dataclass(frozen=True)
class BatchState:
    """What the provider says of a batch."""

    id: str
    status: str  # validating | in_progress | finalizing | completed | failed | expired | cancelling | cancelled
    output_file_id: str | None
    error_file_id: str | None
    completed: int | None
    failed: int | None
    error: str | None  # the batch's own errors (a failed validation), one line

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _state(batch) -> BatchState:
    counts = getattr(batch, "request_counts", None)
    errors = getattr(batch, "errors", None)
    data = getattr(errors, "data", None) or (errors.get("data") if isinstance(errors, dict) else None) or []
    messages = [str(getattr(e, "message", None) or (e.get("message") if isinstance(e, dict) else e)) for e in data]
    return BatchState(id=batch.id, status=str(batch.status), output_file_id=batch.output_file_id,
                      error_file_id=batch.error_file_id, completed=getattr(counts, "completed", None),
                      failed=getattr(counts, "failed", None),
                      error="; ".join(messages)[:500] if messages else None)


@dataclass(frozen=True)
class Connection:
    """Where the batch API is reached: provider, api_base, key (never stored), timeout per request."""

    provider: str
    api_base: str | None
    api_key: str | None
    timeout: float

    def kwargs(self) -> dict:
        out: dict = {"custom_llm_provider": self.provider, "timeout": self.timeout, "max_retries": 0}
        if self.api_base:
            out["api_base"] = self.api_base
        if self.api_key is not None:
            out["api_key"] = self.api_key
        return out


def upload(conn: Connection, name: str, data: bytes) -> str:
    """Upload a request file (purpose "batch"); its file id."""
    return llm.lib().create_file(file=(name, data, "application/jsonl"), purpose="batch", **conn.kwargs()).id


def submit(conn: Connection, input_file_id: str, metadata: dict[str, str]) -> BatchState:
    batch = llm.lib().create_batch(completion_window="24h", endpoint=ENDPOINT, input_file_id=input_file_id,
                                   metadata=metadata, **conn.kwargs())
    return _state(batch)


def retrieve(conn: Connection, batch_id: str) -> BatchState:
    return _state(llm.lib().retrieve_batch(batch_id=batch_id, **conn.kwargs()))


def download(conn: Connection, file_id: str) -> bytes:
    return llm.lib().file_content(file_id=file_id, **conn.kwargs()).content
