"""A small OpenAI-compatible chat server for tests and benchmarks (127.0.0.1 only).

`POST /v1/chat/completions` answers like OpenAI's API, usage included. What it answers is scripted
per request by a marker in the prompt, `[[scenario:NAME]]`; a scenario is a list of behaviours, one
per attempt at the same prompt (the last one repeats), so `flaky429` answers 429 first and a valid
judgement on the retry. Modes are marked present with `[[present:CODE,CODE]]`; `[[latency:SECONDS]]` sets
the answer's delay. Without a marker the
server uses `default_scenario`.

Behaviours: ok, fence, missing, unknown, nonbool, prose, 401, 429, 500, hang (sleeps `hang_s`), and two
that echo the caller's Authorization header (leak500, leakprose) to test that keys are scrubbed.
Every request is counted and kept (`requests`), so tests can check that nothing was sent, and the usage
of every answer is kept (`usages`), so tests can check token and cost accounting against the server's own.
`arrivals` holds each request's arrival time and `timeline` every (time, requests in flight) change
(time.monotonic()), for tests of waiting and benchmarks of busy slots. Behaving like a proxy:
`served_model` answers with another model name than the one asked for (a router's choice), and `gate`,
a callable(body) -> None or (status, payload, headers), answers a request before the scenario does
(a rate limiter's 429 with Retry-After).

Run on its own (for benchmarks in another process): `python tests/llm_server.py --port 0 --codes A,B`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCENARIOS = {
    "ok": ["ok"],
    "fence": ["fence"],
    "missing": ["missing"],
    "unknown": ["unknown"],
    "nonbool": ["nonbool"],
    "prose": ["prose"],
    "flaky429": ["429", "ok"],
    "flaky500": ["500", "ok"],
    "err500": ["500"],
    "missing_then_ok": ["missing", "ok"],
    "hang": ["hang"],
    "hang_then_ok": ["hang", "ok"],
    "auth": ["401"],
    "leak": ["leak500", "leakprose", "ok"],  # echoes the caller's Authorization header back
}
_SCENARIO = re.compile(r"\[\[scenario:([a-z0-9_]+)\]\]")
_PRESENT = re.compile(r"\[\[present:([^\]]*)\]\]")
_LATENCY = re.compile(r"\[\[latency:([0-9.]+)\]\]")


class LLMServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops connections under concurrency
    handler_class: type = None  # type: ignore[assignment]  # _Handler, set below (subclasses add routes)

    def __init__(self, codes: list[str], *, port: int = 0, default_scenario: str = "ok",
                 latency=None, hang_s: float = 5.0, reply=None, served_model: str | None = None, gate=None):
        super().__init__(("127.0.0.1", port), self.handler_class or _Handler)
        self.codes = list(codes)
        self.default_scenario = default_scenario
        self.latency = latency  # None, seconds, or callable(body) -> seconds
        self.hang_s = hang_s
        self.reply = reply  # None, or callable(request body) -> the assistant message to answer (agent scripts)
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.auth_headers: list[str] = []
        self.usages: list[tuple[int, int]] = []  # (prompt, completion) tokens of every answer given
        self.attempts: dict[str, int] = {}
        self.served_model = served_model
        self.gate = gate
        self.arrivals: list[float] = []
        self.timeline: list[tuple[float, int]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def start(self) -> LLMServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def behaviour_for(self, prompt: str) -> str:
        match = _SCENARIO.search(prompt)
        steps = SCENARIOS[match.group(1) if match else self.default_scenario]
        key = hashlib.sha256(prompt.encode()).hexdigest()
        with self.lock:
            attempt = self.attempts.get(key, 0)
            self.attempts[key] = attempt + 1
        return steps[min(attempt, len(steps) - 1)]

    def judgement(self, prompt: str, behaviour: str) -> str:
        match = _PRESENT.search(prompt)
        present = {c.strip() for c in match.group(1).split(",")} if match else set()
        codes = self.codes
        if behaviour == "missing":
            codes = codes[:-1]
        modes = {c: {"present": c in present, "evidence": "quoted line" if c in present else ""} for c in codes}
        if behaviour == "unknown":
            modes["FM-9.9"] = {"present": True, "evidence": "made up"}
        if behaviour == "nonbool" and codes:
            modes[codes[0]]["present"] = "yes"
        text = json.dumps({"modes": modes, "summary": "scripted judgement"})
        if behaviour == "fence":
            return f"Here is my judgement.\n```json\n{text}\n```\n"
        if behaviour == "prose":
            return "I think the agents did fine overall, no failures to report."
        return text


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: Nagle would hold the body ~40 ms
    server: LLMServer

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            self.wfile.write(body)

    def do_GET(self) -> None:
        """`GET /_stats`: the arrivals and in-flight timeline so far, then forgotten (for a benchmark in
        another process: it measures busy slots from the server's side)."""
        if self.path != "/_stats":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        server = self.server
        with server.lock:
            stats = {"arrivals": server.arrivals, "timeline": server.timeline, "max_in_flight": server.max_in_flight}
            server.arrivals, server.timeline, server.max_in_flight = [], [], server.in_flight
        self._send(200, stats)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        server = self.server
        with server.lock:
            server.requests.append(body)
            server.auth_headers.append(self.headers.get("Authorization") or "")
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            arrived = time.monotonic()
            server.arrivals.append(arrived)
            server.timeline.append((arrived, server.in_flight))
        try:
            gated = server.gate(body) if server.gate is not None else None
            if gated is not None:
                self._send(*gated)
            else:
                self._answer(body)
        finally:
            with server.lock:
                server.in_flight -= 1
                server.timeline.append((time.monotonic(), server.in_flight))

    def _answer(self, body: dict) -> None:
        server = self.server
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        behaviour = server.behaviour_for(prompt)
        delay = server.latency(body) if callable(server.latency) else (server.latency or 0)
        if match := _LATENCY.search(prompt):
            delay = float(match.group(1))
        if behaviour == "hang":
            delay = server.hang_s
        if delay:
            time.sleep(delay)
        if behaviour == "429":
            self._send(429, {"error": {"message": "rate limited, slow down", "type": "rate_limit"}},
                       {"Retry-After": "0"})
            return
        if behaviour == "401":
            self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                       "code": "invalid_api_key"}})
            return
        if behaviour == "leak500":
            self._send(500, {"error": {"message": f"upstream rejected {self.headers.get('Authorization')}"}})
            return
        if behaviour == "500":
            self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
            return
        message = server.reply(body) if server.reply is not None else None
        if message is not None:  # a scripted agent turn: text or tool calls
            self._send(200, {"id": f"chatcmpl-{random.getrandbits(48):x}", "object": "chat.completion",
                             "created": int(time.time()), "model": body.get("model", "test-model"),
                             "choices": [{"index": 0, "message": {"role": "assistant", **message},
                                          "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
                             "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
            return
        content = server.judgement(prompt, behaviour)
        if behaviour == "leakprose":
            content = f"I was called with {self.headers.get('Authorization')} and have no opinion."
        prompt_tokens = max(1, len(prompt) // 4)
        completion_tokens = max(1, len(content) // 4)
        with server.lock:
            server.usages.append((prompt_tokens, completion_tokens))
        self._send(200, {
            "id": f"chatcmpl-{random.getrandbits(48):x}", "object": "chat.completion", "created": int(time.time()),
            "model": server.served_model or body.get("model", "test-model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--codes", required=True, help="comma-separated mode codes")
    parser.add_argument("--latency", default="0", help="seconds, or LOW:HIGH for uniform random latency")
    parser.add_argument("--scenario", default="ok")
    args = parser.parse_args()
    if ":" in args.latency:
        low, high = (float(x) for x in args.latency.split(":"))

        def latency(_body):
            return random.uniform(low, high)
    else:
        latency = float(args.latency)
    server = LLMServer(args.codes.split(","), port=args.port, default_scenario=args.scenario, latency=latency)
    print(server.base_url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    sys.exit(main())
