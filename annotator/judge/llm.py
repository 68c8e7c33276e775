"""The only module that imports litellm, and only when a judge call, a token count or a price is needed.

litellm is configured once: the bundled price list (no network fetch at import), no debug banners, its
loggers silenced (they can print request details), no retries of its own (the runner owns retries), and
no tokenizer downloads: for model names that contain "llama-3", "llama-2", "replicate" or "command-r",
litellm's token_counter fetches a tokenizer from the Hugging Face hub (a dry run of a hosted_vllm/ Llama
took 101 s offline, retrying DNS); counted with its bundled tiktoken encoding instead, which is an
estimate, as every dry-run count is.
"""

from __future__ import annotations

import email.utils
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass

from annotator.core.errors import OptionError

_LIB = None
_QUIET_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx", "httpcore", "openai")
RETRYABLE_STATUS = (408, 409, 429)


def lib():
    """litellm, imported and configured on first use."""
    global _LIB
    if _LIB is None:
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before the import: no price-list download
        import litellm

        litellm.suppress_debug_info = True
        litellm.telemetry = False
        litellm.set_verbose = False
        litellm.disable_hf_tokenizer_download = True
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        _LIB = litellm
    return _LIB


def context_limit(model: str) -> int | None:
    """The model's input limit in tokens where litellm's model map knows it."""
    try:
        info = lib().get_model_info(model)
    except Exception:  # litellm raises a variety of errors for unmapped models
        return None
    value = info.get("max_input_tokens") or info.get("max_tokens")
    return int(value) if value else None


def supports_structured_output(model: str) -> bool:
    try:
        return bool(lib().supports_response_schema(model=model))
    except Exception:
        return False


def count_tokens(model: str, messages: list[dict]) -> int:
    return int(lib().token_counter(model=model, messages=messages))


def check_model(model: str, api_base: str | None = None) -> None:
    """Fail early, in one line, when litellm cannot tell which provider serves `model`."""
    try:
        lib().get_llm_provider(model=model, api_base=api_base)
    except Exception as exc:  # litellm raises BadRequestError with a long help text
        first = " ".join(str(exc).split()).removeprefix("litellm.BadRequestError: ").split(" Pass model as")[0]
        raise OptionError(f"--model {model!r}: {first}") from None


def is_fatal(exc: BaseException) -> bool:
    """Errors that will hit every call alike (bad key, no access, unknown model): stop the run."""
    return getattr(exc, "status_code", None) in (401, 403, 404)


def register_price(model: str, input_cost_per_token: float, output_cost_per_token: float) -> None:
    """Teach litellm a price for `model` (USD per token), so cost is reported and estimated."""
    lib().register_model({model: {"input_cost_per_token": float(input_cost_per_token),
                                  "output_cost_per_token": float(output_cost_per_token),
                                  "litellm_provider": model.split("/", 1)[0] if "/" in model else "openai",
                                  "mode": "chat"}})


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for the given token counts, or None where the model's price is unknown."""
    try:
        prompt_cost, completion_cost = lib().cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                                            completion_tokens=completion_tokens)
    except Exception:
        return None
    return float(prompt_cost + completion_cost)


@dataclass(frozen=True)
class Reply:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    model: str | None = None  # the model that answered, as the server names it (a proxy's fallback shows here)


async def complete(**kwargs) -> Reply:
    """One chat completion. The caller passes timeout; litellm and the OpenAI client never retry."""
    response = await lib().acompletion(num_retries=0, max_retries=0, **kwargs)
    usage = getattr(response, "usage", None)
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    text = response.choices[0].message.content if response.choices else None
    return Reply(text=text or "", prompt_tokens=getattr(usage, "prompt_tokens", None),
                 completion_tokens=getattr(usage, "completion_tokens", None),
                 cost=float(cost) if cost is not None else None, model=served_model(response))


def served_model(response) -> str | None:
    """The response's `model` field: which model the server (or a proxy's router) actually used.

    litellm keeps the server's name but prefixes it with the provider of the requested model string
    (`openai/gpt-4o-mini-2024-07-18`); that prefix is litellm's, not the server's, so it is taken off.
    """
    model = getattr(response, "model", None)
    if not isinstance(model, str) or not model.strip():
        return None
    provider = (getattr(response, "_hidden_params", None) or {}).get("custom_llm_provider")
    if provider and model.startswith(f"{provider}/"):
        model = model[len(provider) + 1:]
    return model[:200]


def is_retryable(exc: BaseException) -> bool:
    """Timeouts, rate limits, connection failures and server errors are worth another try."""
    if isinstance(exc, TimeoutError):
        return True
    litellm = lib()
    if isinstance(exc, (litellm.Timeout, litellm.RateLimitError, litellm.APIConnectionError,
                        litellm.InternalServerError, litellm.ServiceUnavailableError, litellm.BadGatewayError)):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in RETRYABLE_STATUS or status >= 500)


def retry_after(exc: BaseException, *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, if it said: the Retry-After header of a 429 or 503 (RFC 9110 10.2.3),
    as delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`, measured from `now`, the
    Unix time). A date in the past is 0 seconds; a header that is neither is ignored. Unbounded: the caller
    bounds it."""
    for headers in _header_sets(exc):
        try:
            value = headers.get("retry-after")
        except AttributeError:
            continue
        if isinstance(value, str):
            return parse_retry_after(value, now=now)
    return None


def _header_sets(exc: BaseException):
    """Where the headers of an error answer may be: litellm copies them to `litellm_response_headers` (the
    `response` it attaches is a stand-in without them); the OpenAI client's error down the chain has them."""
    for error in _chain(exc):
        for headers in (getattr(error, "litellm_response_headers", None),
                        getattr(getattr(error, "response", None), "headers", None), getattr(error, "headers", None)):
            if headers is not None:
                yield headers


def parse_retry_after(value: str, *, now: float | None = None) -> float | None:
    """A Retry-After value in seconds from `now` (delay-seconds or HTTP-date), or None when it is neither."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:  # an HTTP-date is always GMT; a date without a zone is not one
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def describe(exc: BaseException) -> str:
    """One line naming the error: `RateLimitError (429): message` (not yet scrubbed of secrets).

    Where the provider's error only says "Connection error." (litellm wraps every transport failure
    as a 500), the cause found down the exception chain is named instead: connection refused, DNS,
    TLS or timeout, with the underlying message.
    """
    if isinstance(exc, TimeoutError):
        return "Timeout: no answer within the time limit"
    cause = transport_cause(exc)
    if cause is not None:
        return cause
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    label = name + (f" ({status})" if status else "")
    return f"{label}: {_message(exc)[:500]}"


def _message(exc: BaseException) -> str:
    name = type(exc).__name__
    message = " ".join(str(exc).split()) or name
    previous = None
    while message != previous:  # litellm repeats "litellm.RateLimitError: RateLimitError: OpenAIException - "
        previous = message
        message = message.removeprefix("litellm.").removeprefix(f"{name}: ").removeprefix("OpenAIException - ")
    return message


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and every cause behind it (__cause__, __context__, litellm's original_exception)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "original_exception", None)]
    return [e for e in seen if isinstance(e, BaseException)]


_CAUSES = (  # (label, test on one exception of the chain), most specific first
    ("DNS", lambda e: isinstance(e, socket.gaierror)),
    ("TLS", lambda e: isinstance(e, ssl.SSLError)),
    ("connection refused", lambda e: isinstance(e, ConnectionRefusedError)),
    ("connection reset", lambda e: isinstance(e, ConnectionResetError)),
    ("timeout", lambda e: isinstance(e, TimeoutError) or type(e).__name__.endswith("Timeout")),
)
_HTTPX_CAUSES = {"ConnectError": "connection failed", "ConnectTimeout": "timeout", "ReadTimeout": "timeout",
                 "WriteTimeout": "timeout", "PoolTimeout": "timeout", "RemoteProtocolError": "protocol error",
                 "ReadError": "connection lost", "WriteError": "connection lost"}


_UNREACHABLE = (socket.gaierror, ssl.SSLError, ConnectionRefusedError)
_UNREACHABLE_HTTPX = ("ConnectError", "ConnectTimeout")


def is_unreachable(exc: BaseException) -> bool:
    """No connection was made (refused, DNS, TLS, connect timeout): the server never saw the request.

    A read timeout, a reset after connecting or any HTTP status is not: the server is there."""
    if getattr(exc, "status_code", None) not in (None, 500):
        return False
    return any(isinstance(e, _UNREACHABLE) or type(e).__name__ in _UNREACHABLE_HTTPX for e in _chain(exc))


def transport_cause(exc: BaseException) -> str | None:
    """`connection refused: [Errno 111] ...` when a transport failure lies in the chain, else None."""
    chain = _chain(exc)
    if getattr(exc, "status_code", None) not in (None, 500) and not isinstance(exc, TimeoutError):
        return None  # the server answered: its status is the cause
    for label, test in _CAUSES:
        found = next((e for e in chain[1:] if test(e)), None)
        if found is not None:
            return f"{label}: {_message(found)[:400]}"
    found = next((e for e in chain[1:] if type(e).__name__ in _HTTPX_CAUSES), None)
    if found is not None:
        text = _message(found)
        label = _HTTPX_CAUSES[type(found).__name__]
        if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
            label = "DNS"
        elif "certificate" in text.lower() or "ssl" in text.lower():
            label = "TLS"
        elif "refused" in text.lower():
            label = "connection refused"
        return f"{label}: {text[:400]}"
    return None
