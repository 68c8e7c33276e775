"""Keep secrets out of what is stored and shown: API keys, bearer tokens, credentials in URLs.

Applied to every request, raw answer and error text before it reaches the database, a log line or the
terminal. Values of environment variables whose names end in _KEY, _TOKEN, _SECRET or _PASSWORD are
replaced wherever they appear, and so is anything shaped like a provider key (`sk-...`).
"""

from __future__ import annotations

import os
import re

from annotator.core.errors import UserError

REDACTED = "[redacted]"
_SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")
_MIN_SECRET_LEN = 6  # shorter values ("1", "true") would redact ordinary words
# (pattern, literal probes): a pattern runs only when one of its probes occurs in the lower-cased text,
# so scrubbing a long request without anything key-like costs a few substring searches.
_PATTERNS = (
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), ("sk-",)),  # OpenAI, Anthropic (sk-ant-...), LiteLLM keys
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/\-]{8,}=*"), ("bearer",)),
    (re.compile(r"(?i)(\b(?:api[_-]?key|x-api-key|access[_-]?token|authorization)[\"']?\s*[:=]\s*[\"']?)"
                r"[^\s\"',}&]{6,}"), ("api_key", "api-key", "apikey", "access_token", "access-token", "accesstoken",
                                 "authorization")),
    (re.compile(r"(?i)([?&](?:key|api_key|token|access_token)=)[^&\s\"']+"), ("key=", "token=")),
    (re.compile(r"(//)[^/@\s:]+:[^/@\s]+(@)"), ("@",)),  # user:password@host
)


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables, longest first (so no value is half-replaced)."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items() if k.upper().endswith(_SECRET_SUFFIXES) and len(v) >= _MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def scrub(text: str | None, secrets: list[str] | None = None) -> str | None:
    """`text` with every secret replaced by "[redacted]"; None stays None."""
    if not text:
        return text
    for value in secret_values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    lowered = text.lower()
    for pattern, probes in _PATTERNS:
        if not any(probe in lowered for probe in probes):
            continue
        if pattern.groups:
            tail = pattern.groups > 1  # bound per pattern (a closure would see the loop's last one)
            text = pattern.sub(lambda m, tail=tail: m.group(1) + REDACTED + (m.group(2) if tail else ""), text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def failure_line(exc: BaseException) -> str:
    """The one line a failed run keeps, scrubbed: a user's error says its message, a bug `Type: message`."""
    text = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    return scrub(text.splitlines()[0] if text else "") or type(exc).__name__
