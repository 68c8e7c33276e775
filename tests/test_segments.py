"""Tests for annotator.core.segments: schemes, turn detection per framework, tiling properties, speed."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.segments import Segment, Turn, parse_scheme, render_messages, segment_trace, split_turns
from annotator.resources import DEMO_DIR


def speakers(text: str) -> list[str | None]:
    return [t.speaker for t in split_turns(text)]


def assert_tiles(spans, length: int) -> None:
    """Spans are in order, contiguous, non-empty and cover [0, length)."""
    pos = 0
    for span in spans:
        assert span.start == pos, (span, pos)
        assert span.end > span.start, span
        pos = span.end
    assert pos == length


# ------------------------------------------------------------------------------------------- schemes


@pytest.mark.parametrize(
    "value, expected",
    [("trace", ("trace", None)), ("turn", ("turn", None)), ("window:1", ("window", 1)),
     ("window:12", ("window", 12)), (" Window:3 ", ("window", 3))],
)
def test_parse_scheme_accepts(value, expected):
    assert parse_scheme(value) == expected


@pytest.mark.parametrize("value", ["", "turns", "window", "window:", "window:0", "window:-1", "window:x",
                                   "window:2.5", "window: 2", "window:\u00b3", "trace:1", None])
def test_parse_scheme_rejects_with_one_line(value):
    with pytest.raises(ValueError) as err:
        parse_scheme(value)
    message = str(err.value)
    assert "\n" not in message and "window:N" in message


# ------------------------------------------------------------------------- framework formats (ours)

CHATDEV = """[2024-03-02 10:00:01 INFO] **[Preprocessing]**

**task_prompt**: make a snake game

[2024-03-02 10:00:01 INFO] flask app.py did not start for online log
[2024-03-02 10:00:02 INFO] System: **[chatting]**

| Parameter | Value |
| **phase_name** | Coding |

[2024-03-02 10:00:02 INFO] Chief Technology Officer: **[Start Chat]**

Write the snake game in Python with pygame.

[2024-03-02 10:00:09 INFO] **[OpenAI_Usage_Info Receive]**
prompt_tokens: 812

[2024-03-02 10:00:09 INFO] Programmer: **Programmer<->Chief Technology Officer on : Coding, turn 0**

main.py
```python
import pygame
```

[2024-03-02 10:00:09 INFO] **[Seminar Conclusion]**:

 main.py done
[2024-03-02 10:00:12 INFO] Code Reviewer: **Code Reviewer<->Programmer on : CodeReviewComment, turn 0**

<CRITICAL> The snake can reverse into itself.
"""


def test_chatdev_speaker_lines_and_sections():
    turns = split_turns(CHATDEV)
    assert [t.speaker for t in turns] == [
        None, "System", "Chief Technology Officer", "Programmer", None, "Code Reviewer"]
    # usage-info and flask lines stay inside the turn they interrupt
    assert "OpenAI_Usage_Info" in CHATDEV[turns[2].start:turns[2].end]
    assert CHATDEV[turns[5].start:].startswith("[2024-03-02 10:00:12 INFO] Code Reviewer:")


AG2_TEXT = """Starting a new chat....
user_proxy (to assistant):

What is 17 * 23? Check with code.

--------------------------------------------------------------------------------
assistant (to user_proxy):

```python
print(17 * 23)
```

--------------------------------------------------------------------------------

>>>>>>>> EXECUTING CODE BLOCK 0 (inferred language is python)...
user_proxy (to assistant):

exitcode: 0 (execution succeeded)
Code output: 391

--------------------------------------------------------------------------------
assistant (to user_proxy):

The answer is 391. TERMINATE
"""


def test_ag2_console_text():
    turns = split_turns(AG2_TEXT)
    assert [t.speaker for t in turns] == [None, "user_proxy", "assistant", "user_proxy", "assistant"]
    assert AG2_TEXT[turns[0].start:turns[0].end] == "Starting a new chat....\n"


def _ag2_dump() -> str:
    record = {
        "instance_id": "demo-1",
        "problem_statement": ["A farmer has 3 pens with 4 goats each. How many goats?"],
        "trajectory": [
            {"content": ["Solve it with Python.", "Problem: 3 pens ..."], "role": "assistant", "name": "mathproxyagent"},
            {"content": ["3 * 4 = 12, so \\boxed{12}"], "role": "user", "name": "assistant"},
            {"content": ["Continue."], "role": "assistant", "name": "mathproxyagent"},
            {"content": ["Done."], "role": "user"},
        ],
        "note": {"text": ["fine"]},
    }
    return json.dumps(record, indent=4)


def test_ag2_json_dump_uses_name_then_role_and_keeps_epilogue_apart():
    text = _ag2_dump()
    turns = split_turns(text)
    assert [t.speaker for t in turns] == [None, "mathproxyagent", "assistant", "mathproxyagent", "user", None]
    assert text[turns[-1].start:].lstrip().startswith('],\n    "note"')


def test_metagpt_loguru_lines_inside_a_json_string():
    log = (
        "2024-05-01 09:00:00.100 | INFO     | metagpt.roles.role:_act:391 - Alice(SimpleCoder): to do SimpleWriteCode(SimpleWriteCode)\n"
        "```python\ndef add(a, b):\n    return a - b\n```\n"
        "2024-05-01 09:00:03.200 | INFO     | __main__:_act:85 - Bob(SimpleTester): to do SimpleWriteTest(SimpleWriteTest)\n"
        "```python\ndef test_add():\n    assert add(2, 2) == 4\n```\n"
        "2024-05-01 09:00:05.300 | INFO     | metagpt.roles.role:_act:391 - Charlie(SimpleReviewer): to do SimpleWriteReview(SimpleWriteReview)\n"
        "LGTM"
    )
    text = json.dumps({"run_id": 3, "prompt": "add numbers", "content": log, "cost": 0.01}, indent=2)
    turns = split_turns(text)
    assert [t.speaker for t in turns] == [None, "Alice(SimpleCoder)", "Bob(SimpleTester)", "Charlie(SimpleReviewer)"]
    assert text[turns[1].start:].startswith("2024-05-01 09:00:00.100")
    # the same lines as a plain log split the same way, without a preamble
    assert speakers(log) == ["Alice(SimpleCoder)", "Bob(SimpleTester)", "Charlie(SimpleReviewer)"]


METAGPT_LOG = """=== MetaGPT Agent Communication Log - Started at 2024-05-02 08:00:00 ===

[2024-05-02 08:00:01] FROM: Human TO: {'<all>'}
ACTION: metagpt.actions.add_requirement.UserRequirement
CONTENT:
Which option is right? Answer: (X)
--------------------------------------------------------------------------------

[2024-05-02 08:00:09] NEW MESSAGES:

SimpleCoder: 
def answer():
    return "The answer is (2)"
--------------------------------------------------------------------------------

[2024-05-02 08:00:15] NEW MESSAGES:

SimpleReviewer: The tests do not check option 1 at all.
--------------------------------------------------------------------------------
"""


def test_metagpt_communication_log():
    assert speakers(METAGPT_LOG) == [None, "Human", "SimpleCoder", "SimpleReviewer"]


MAGENTIC = """SCENARIO.PY STARTING !#!#
---------- user ----------
What year was the bridge opened?
---------- MagenticOneOrchestrator ----------
Please search the web for the opening year.
---------- WebSurfer ----------
I typed 'bridge opening year' into the search bar.
---------- TextMessage (MagenticOneOrchestrator) ----------
FINAL ANSWER: 1932
"""


def test_magentic_one_rulers():
    assert speakers(MAGENTIC) == [None, "user", "MagenticOneOrchestrator", "WebSurfer", "MagenticOneOrchestrator"]


OPENMANUS = """INFO     [root] setup complete
2024-06-01 12:00:00.001 | INFO     | app.agent.base:run:140 - Executing step 1/20
2024-06-01 12:00:01.002 | INFO     | app.agent.toolcall:think:81 - \u2728 Manus's thoughts: I will search.
2024-06-01 12:00:01.003 | INFO     | app.agent.toolcall:think:89 - \U0001f527 Tool arguments: {"query": "x"}
2024-06-01 12:00:03.004 | INFO     | app.agent.toolcall:act:150 - \U0001f3af Tool 'web_search' completed its mission! Result: 3 links
2024-06-01 12:00:04.005 | INFO     | app.agent.toolcall:think:81 - \u2728 Manus's thoughts: Done.
"""


def test_openmanus_thoughts_and_tool_results():
    assert speakers(OPENMANUS) == [None, "Manus", "web_search", "Manus"]


APPWORLD = """
******************** Task 1/4 (abc_1)  ********************
Like every song in my queue.
Response from Supervisor Agent
    send_message(app_name='spotify', message='Show my queue')
Code Execution Output

    reply = self.send_message(app_name='spotify', message='Show my queue')
Entering Spotify Agent message loop
    Message to Spotify Agent
        Show my queue
    Response from Spotify Agent
        print(apis.spotify.show_song_queue())
Exiting Spotify Agent message loop
Message to Supervisor Agent
    Queue has 3 songs.
"""


def test_appworld_headers():
    assert speakers(APPWORLD) == [None, "Supervisor Agent", "Code Execution Output", "Message to Spotify Agent",
                                  "Spotify Agent", "Message to Supervisor Agent"]


def test_hyperagent_dump():
    record = {
        "instance_id": "pkg__pkg-1",
        "trajectory": [
            "HyperAgent_pkg__pkg-1 - INFO - Initialized HyperAgent instance pkg__pkg-1",
            "HyperAgent_pkg__pkg-1 - INFO - Planner's Response: Thought: find the parser.",
            "Subgoal: locate parse()",
            "HyperAgent_pkg__pkg-1 - INFO - Inner-Navigator-Assistant's Response: Action: search",
            "HyperAgent_pkg__pkg-1 - INFO - Navigator->Planner: parse() is in io.py",
        ],
        "note": {"text": ["ok"]},
    }
    text = json.dumps(record, indent=4)
    assert speakers(text) == [None, "Planner", "Inner-Navigator-Assistant", "Navigator", None]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("user: hi there\nassistant: hello\nuser: bye\n", ["user", "assistant", "user"]),
        ("intro line\nAlice: plan A\nBob: plan B\nAlice: fine\nBob: ok\n", [None, "Alice", "Bob", "Alice", "Bob"]),
        ("Thought: search\nAction: search[x]\nObservation: none\nThought: stop\n", [None]),
        ("Name: John\nAge: 31\n", [None]),  # each label once and not a role word: not a dialogue
        ("plain text with no speakers at all", [None]),
    ],
)
def test_generic_fallback_only_where_unambiguous(text, expected):
    assert speakers(text) == expected


def test_one_format_per_trace_the_one_with_most_markers():
    # A ChatDev log quoting one AG2-looking line stays a ChatDev log.
    text = CHATDEV + "bob (to alice):\n\nquoted\n"
    assert speakers(text) == speakers(CHATDEV)


def test_crlf_line_endings():
    text = AG2_TEXT.replace("\n", "\r\n")
    assert speakers(text) == speakers(AG2_TEXT)


def test_preamble_empty_and_markerless_text():
    assert split_turns("") == []
    assert split_turns("\n\n\n") == [Turn(0, 3, None)]
    assert split_turns("hello") == [Turn(0, 5, None)]


# ---------------------------------------------------------------------------------- render_messages

MESSAGES = [
    {"name": "Orchestrator", "role": "assistant", "content": "Plan: ask WebSurfer."},
    {"name": "WebSurfer", "role": "user", "content": "Found it.\n"},
    {"name": "", "role": "tool", "content": ["line one", "line two"]},
    {"role": "assistant", "content": None},
]


def test_render_messages_turns_tile_and_name_speakers():
    text, turns = render_messages(MESSAGES)
    assert_tiles(turns, len(text))
    assert [t.speaker for t in turns] == ["Orchestrator", "WebSurfer", "tool", "assistant"]
    assert text.startswith("=== Orchestrator (assistant) ===\nPlan: ask WebSurfer.\n\n=== WebSurfer (user) ===")
    assert "line one\nline two" in text[turns[2].start:turns[2].end]
    assert split_turns(text) == turns  # the headers re-split identically


def test_render_messages_edge_cases():
    assert render_messages([]) == ("", [])
    with pytest.raises(ValueError, match=r"messages\[1\]"):
        render_messages([{"name": "a", "content": "x"}, "not a message"])
    text, turns = render_messages([{"name": "two\nlines", "role": "user", "content": "x"}])
    assert text.splitlines()[0] == "=== two lines (user) ===" and turns[0].speaker == "two lines"
    text, turns = render_messages([{"content": "nobody"}])
    assert turns == [Turn(0, len(text), None)]


def test_render_messages_keeps_recipient_and_meta_on_the_turn_and_its_segments():
    text, turns = render_messages([
        {"name": "Orchestrator", "role": "assistant", "recipient": "WebSurfer", "content": "Search it.",
         "meta": {"span_id": "a1", "started_at": 1.5}},
        {"name": "WebSurfer", "content": "Done."},
    ])
    assert text.splitlines()[0] == "=== Orchestrator -> WebSurfer (assistant) ==="
    assert (turns[0].recipient, dict(turns[0].meta)) == ("WebSurfer", {"span_id": "a1", "started_at": "1.5"})
    assert turns[1].recipient is None and turns[1].meta is None
    assert [t.speaker for t in split_turns(text)] == ["Orchestrator", "WebSurfer"]  # not "Orchestrator -> ..."
    segs = segment_trace(text, "turn", turns=turns, max_chars=12)  # the first turn is cut into pieces
    first = [s for s in segs if s.end <= turns[0].end]
    assert len(first) > 1 and all(s.recipient == "WebSurfer" and s.meta["span_id"] == "a1" for s in first)


# ------------------------------------------------------------------------------------ segment_trace


def test_trace_scheme_is_one_segment_whatever_the_length():
    assert segment_trace("x" * 50, "trace", max_chars=10) == [Segment(0, "trace", 0, 50)]
    assert segment_trace("", "trace") == []
    assert segment_trace("", "turn") == [] and segment_trace("", "window:3") == []


def test_turn_scheme_keeps_speakers():
    segs = segment_trace(AG2_TEXT, "turn")
    assert [s.speaker for s in segs] == [None, "user_proxy", "assistant", "user_proxy", "assistant"]
    assert all(s.kind == "turn" for s in segs) and [s.index for s in segs] == list(range(len(segs)))


def test_window_groups_n_turns_and_cuts_at_turn_boundaries():
    text, turns = render_messages([{"name": f"a{i}", "content": "m" * 10} for i in range(7)])
    segs = segment_trace(text, "window:3", turns=turns)
    boundaries = {t.start for t in turns}
    assert [s.end for s in segs][:-1] == [turns[3].start, turns[6].start]
    assert all(s.kind == "window" and s.speaker is None for s in segs)
    small = segment_trace(text, "window:3", turns=turns, max_chars=len(text[turns[0].start:turns[1].end]))
    assert all(s.start in boundaries for s in small) and len(small) == 4  # two turns fit, three do not


def test_long_turn_is_cut_at_line_breaks_else_hard():
    lines = "".join(f"line {i:03d}\n" for i in range(100))  # 9 characters per line
    segs = segment_trace(lines, "turn", max_chars=40)
    assert all(lines[s.end - 1] == "\n" for s in segs)
    assert all(s.end - s.start <= 40 for s in segs) and all(s.speaker is None for s in segs)
    one_line = "y" * 95
    assert [(s.start, s.end) for s in segment_trace(one_line, "window:2", max_chars=40)] == [(0, 40), (40, 80), (80, 95)]


def test_pieces_of_a_long_turn_are_not_merged_into_windows():
    text, turns = render_messages([{"name": "a", "content": "short"}, {"name": "b", "content": "z" * 100},
                                   {"name": "c", "content": "short"}])
    segs = segment_trace(text, "window:5", turns=turns, max_chars=30)
    assert_tiles(segs, len(text))
    assert segs[0].end == turns[1].start and segs[-1].start == turns[2].start


def test_given_turns_must_tile_the_text():
    with pytest.raises(ValueError, match="tile"):
        segment_trace("abcdef", "turn", turns=[Turn(0, 2, None), Turn(3, 6, None)])
    with pytest.raises(ValueError, match="6 characters"):
        segment_trace("abcdef", "turn", turns=[Turn(0, 4, None)])
    # empty turns are allowed and simply produce no segment
    assert len(segment_trace("abcdef", "turn", turns=[Turn(0, 0, "x"), Turn(0, 6, "y")])) == 1


@pytest.mark.parametrize("max_chars", [0, -5, 2.5])
def test_max_chars_must_be_positive(max_chars):
    with pytest.raises(ValueError, match="max_chars"):
        segment_trace("abc", "turn", max_chars=max_chars)


# ------------------------------------------------------------------------------- property tests

_FRAGMENTS = [
    "\n", "\r\n", " ", "x", "Ab", "---------- WebSurfer ----------", "alice (to bob):", "user: ", "Bob: ",
    "[2024-01-01 00:00:00 INFO] Programmer: **", "[2024-01-01 00:00:00 INFO] **[Seminar Conclusion]**",
    "Response from Supervisor Agent", "=== x (user) ===", '"trajectory": [', "    {", "    ],", '"name": "a"',
    "\\n2024-01-01 00:00:00.1 | INFO     | m:f:1 - A(B): to do ", "[2024-01-01 00:00:00] NEW MESSAGES:",
    "\u2728", "\U0001f3af", "\x00", "é",
]
texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=8), max_size=80).map("".join),
)
schemes = st.sampled_from(["trace", "turn"]) | st.integers(1, 6).map(lambda n: f"window:{n}")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, scheme=schemes, max_chars=st.integers(1, 120))
def test_segments_tile_the_text_and_respect_max_chars(text, scheme, max_chars):
    segs = segment_trace(text, scheme, max_chars=max_chars)
    assert_tiles(segs, len(text))
    assert [s.index for s in segs] == list(range(len(segs)))
    kind = parse_scheme(scheme)[0]
    assert all(s.kind == kind for s in segs)
    if kind == "trace":
        assert len(segs) == (1 if text else 0)
    else:
        assert all(s.end - s.start <= max_chars for s in segs)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_split_turns_tiles_the_text(text):
    assert_tiles(split_turns(text), len(text))


@settings(max_examples=200, deadline=None)
@given(text=texts, n=st.integers(1, 6), max_chars=st.integers(1, 120))
def test_windows_end_on_turn_boundaries_unless_cutting_a_long_turn(text, n, max_chars):
    turns = split_turns(text)
    boundaries = {t.end for t in turns}
    long_turns = [t for t in turns if t.end - t.start > max_chars]
    for seg in segment_trace(text, f"window:{n}", max_chars=max_chars):
        inside_long = any(t.start < seg.end < t.end for t in long_turns)
        assert seg.end in boundaries or inside_long


names = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x1c\x1d\x1e\x85\u2028\u2029"), min_size=1, max_size=12)
messages = st.lists(
    st.fixed_dictionaries({"name": names.filter(lambda s: s.strip() and "(" not in s and ")" not in s),
                           "role": st.sampled_from(["user", "assistant", "tool"]),
                           "content": st.text(max_size=60)}),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(msgs=messages)
def test_render_messages_tiles_and_contains_each_content(msgs):
    text, turns = render_messages(msgs)
    assert_tiles(turns, len(text))
    assert len(turns) == len(msgs)
    for msg, turn in zip(msgs, turns):
        assert msg["content"] in text[turn.start:turn.end]
        assert turn.speaker == " ".join(msg["name"].split())


# ----------------------------------------------------------------------------------------- speed


# Not a benchmark: a guard against catastrophic regex backtracking, which takes minutes, not seconds.
# Linear-time detection takes well under a second on these inputs; the bound is loose so a busy CI
# machine cannot fail it.
HANG_GUARD_S = 20.0


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


@pytest.mark.parametrize(
    "text",
    [
        "a" * 2_000_000,  # one 2 MB line
        "\n" * 1_000_000,
        "---- " * 400_000,  # ruler-like fragments without a closing ruler
        "[2024-01-01 00:00:00 INFO] " * 70_000,  # ChatDev prefixes without speakers, one line
        "x (to " * 300_000,
        "Alice: " * 300_000,
        "\\n2024-01-01 00:00:00.1 | INFO | m:f:1 - " * 40_000,
    ],
    ids=["2MB-line", "newlines", "rulers", "chatdev-prefixes", "ag2-prefixes", "generic-names", "loguru"],
)
def test_pathological_input_is_fast(text):
    segs, seconds = _timed(segment_trace, text, "window:4")
    assert_tiles(segs, len(text))
    assert seconds < HANG_GUARD_S, seconds


def test_650k_character_log_is_fast():
    text = CHATDEV * (650_000 // len(CHATDEV))
    turns, seconds = _timed(split_turns, text)
    assert len(turns) > 1000 and seconds < HANG_GUARD_S, seconds
    segs, seconds = _timed(segment_trace, text, "window:5")
    assert_tiles(segs, len(text))
    assert seconds < HANG_GUARD_S, seconds


# ---------------------------------------------------------------------------------- real MAST data


def test_real_mast_traces_split_into_plausible_turns(mast_human_path):
    records = json.loads(mast_human_path.read_text(encoding="utf-8"))
    minimum = {"ChatDev": 30, "AG2": 4, "MetaGPT": 4}
    seen = Counter()
    for record in records:
        text = record["trace"]
        turns, seconds = _timed(split_turns, text)
        named = [t for t in turns if t.speaker]
        print(record["trace_id"], record["mas_name"], len(text), "chars:", len(turns), "turns,",
              len(named), "with speakers", sorted({t.speaker for t in named})[:6], f"{seconds * 1000:.1f} ms")
        assert_tiles(turns, len(text))
        assert seconds < HANG_GUARD_S
        framework = record["mas_name"]
        if framework in minimum:
            seen[framework] += 1
            assert len(named) >= minimum[framework], (record["trace_id"], len(named))
            assert len({t.speaker for t in named}) >= 2
        for scheme in ("turn", "window:3"):
            assert_tiles(segment_trace(text, scheme, max_chars=20_000), len(text))
    assert set(seen) == set(minimum)


# ------------------------------------------------------------------------------------- demo data


def test_demo_traces_split_into_6_to_25_turns_with_speakers():
    lines = (DEMO_DIR / "traces.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 12
    for line in lines:
        record = json.loads(line)
        if "text" in record:
            text, turns = record["text"], split_turns(record["text"])
        else:
            text, turns = render_messages(record["messages"])
        assert_tiles(turns, len(text))
        assert 6 <= len(turns) <= 25, (record["id"], len(turns))
        assert len({t.speaker for t in turns if t.speaker}) >= 2, record["id"]
        assert_tiles(segment_trace(text, "window:4", turns=turns, max_chars=2000), len(text))
