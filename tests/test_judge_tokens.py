"""Counting tokens (a dry run, the demo's estimates) touches no network, whatever the model's name."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Names litellm maps to a Hugging Face tokenizer (llama-3, llama-2, replicate, command-r), the name of a
# model a local vLLM serves, and one litellm knows.
MODELS = ["hosted_vllm/meta-llama/Llama-3.1-8B-Instruct", "hosted_vllm/llama-2-7b-chat", "replicate/some/model",
          "cohere/command-r", "hosted_vllm/served-model", "openai/gpt-4o-mini"]

_PROBE = textwrap.dedent("""
    import socket, sys

    def refuse(event, args):
        # any name lookup or connection that could leave the machine fails at once, and is reported
        if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.sendto") or (
                event == "socket.connect" and args[0].family != socket.AF_UNIX):
            print("NETWORK", event, repr(args)[:160], file=sys.stderr, flush=True)
            raise OSError(f"network attempt refused by the test: {event}")

    sys.addaudithook(refuse)
    from annotator.judge import llm

    for model in sys.argv[1:]:
        n = llm.count_tokens(model, [{"role": "user", "content": "Does the planner ask the coder for tests?"}])
        print(model, n, flush=True)
""")


@pytest.mark.slow
def test_counting_tokens_makes_no_network_attempt(tmp_path):
    """A fresh interpreter (no cached tokenizer) with an audit hook that refuses every connection."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *MODELS], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    attempts = [line for line in done.stderr.splitlines() if line.startswith("NETWORK")]
    assert not attempts, attempts[:3]
    assert done.returncode == 0, done.stderr[-2000:]
    counts = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines())
    assert set(counts) == set(MODELS) and all(int(n) > 5 for n in counts.values()), counts
