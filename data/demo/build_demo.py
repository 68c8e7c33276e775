"""Write the synthetic demo data set: traces.jsonl and judge_responses.jsonl in annotator/resources/demo/.

Every trace, label and judge answer here was written for this project (see README.md); nothing is
copied from real runs. Edit the texts or label tables below, then run

    python data/demo/build_demo.py

The traces use the *styles* of ChatDev, AG2, MetaGPT and Magentic-One logs so that segmentation and
the app can be tried on something that looks real. Standard library only.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

# The files ship inside the package (annotator/resources/demo/), which reads them with importlib.resources.
HERE = Path(__file__).resolve().parents[2] / "annotator" / "resources" / "demo"
CODES = ("1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3")
RATERS = ("ana", "ben", "chen")


class Clock:
    """Timestamps that move forward a few seconds per log entry, so logs read naturally."""

    def __init__(self, start: str):
        self.now = datetime.fromisoformat(start)

    def tick(self, seconds: int = 3) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


# ------------------------------------------------------------------------------------ log styles


def chatdev(task: str, project: str, start: str, steps: list[tuple]) -> str:
    """A ChatDev-style log. Steps: ("phase", name, assistant, user), ("start", who, body),
    ("say", who, pair, phase, body), ("section", name, body)."""
    clock = Clock(start)
    stamp = lambda: clock.tick().strftime("%Y-%m-%d %H:%M:%S")
    out = [
        f"[{stamp()} INFO] **[Preprocessing]**\n\n**ChatDev Starts** ({clock.now:%Y%m%d%H%M%S})\n\n"
        f"**task_prompt**: {task}\n\n**project_name**: {project}\n\n"
        "**ChatDevConfig**:\nChatEnvConfig.gui_design: True\nChatEnvConfig.incremental_develop: False\n\n"
    ]
    for step in steps:
        kind = step[0]
        if kind == "phase":
            _, name, assistant, user = step
            out.append(
                f"[{stamp()} INFO] System: **[chatting]**\n\n| Parameter | Value |\n| --- | --- |\n"
                f"| **phase_name** | {name} |\n| **assistant_role_name** | {assistant} |\n"
                f"| **user_role_name** | {user} |\n| **chat_turn_limit** | 3 |\n\n"
            )
        elif kind == "start":
            _, who, body = step
            out.append(f"[{stamp()} INFO] {who}: **[Start Chat]**\n\n{body}\n\n")
        elif kind == "say":
            _, who, pair, phase, body = step
            out.append(f"[{stamp()} INFO] {who}: **{pair} on : {phase}, turn 0**\n\n{body}\n\n")
        elif kind == "section":
            _, name, body = step
            out.append(f"[{stamp()} INFO] **[{name}]**:\n\n{body}\n\n")
        out.append(f"[{stamp()} INFO] flask app.py did not start for online log\n")
    return "".join(out)


RULER = "-" * 80


def ag2(steps: list[tuple]) -> str:
    """An AG2 (AutoGen) console transcript. Steps: (sender, recipient, body) or ("exec", n) or ("next", who)."""
    out = []
    for step in steps:
        if step[0] == "exec":
            out.append(f"\n>>>>>>>> EXECUTING CODE BLOCK {step[1]} (inferred language is python)...\n")
        elif step[0] == "next":
            out.append(f"\nNext speaker: {step[1]}\n\n")
        else:
            sender, recipient, body = step
            out.append(f"{sender} (to {recipient}):\n\n{body}\n\n{RULER}\n")
    return "".join(out)


def metagpt(start: str, preamble: list[str], steps: list[tuple]) -> str:
    """A MetaGPT-style loguru log. Steps: (name, role, action, body, cost)."""
    clock = Clock(start)
    stamp = lambda: clock.tick(4).strftime("%Y-%m-%d %H:%M:%S.") + f"{clock.now.second * 13 % 1000:03d}"
    out = [f"{stamp()} | INFO     | {line}\n" for line in preamble]
    total = 0.0
    for name, role, action, body, cost in steps:
        where = "metagpt.roles.role:_act:391" if role == "SimpleCoder" else "__main__:_act:85"
        out.append(f"{stamp()} | INFO     | {where} - {name}({role}): to do {action}({action})\n{body}\n")
        total += cost
        out.append(
            f"{stamp()} | INFO     | metagpt.utils.cost_manager:update_cost:57 - Total running cost: "
            f"${total:.3f} | Max budget: $3.000 | Current cost: ${cost:.3f}\n"
        )
    return "".join(out)


def metagpt_comm(start: str, requirement: str, steps: list[tuple[str, str]]) -> str:
    """A MetaGPT agent communication log (FROM/NEW MESSAGES blocks). Steps: (role, body)."""
    clock = Clock(start)
    stamp = lambda: clock.tick(8).strftime("%Y-%m-%d %H:%M:%S")
    out = [f"=== MetaGPT Agent Communication Log - Started at {clock.now:%Y-%m-%d %H:%M:%S} ===\n\n",
           f"[{stamp()}] FROM: Human TO: {{'<all>'}}\nACTION: metagpt.actions.add_requirement.UserRequirement\n"
           f"CONTENT:\n{requirement}\n{RULER}\n\n"]
    for role, body in steps:
        out.append(f"[{stamp()}] NEW MESSAGES:\n\n{role}: {body}\n{RULER}\n\n")
    out.append(f"\n=== Communication Log Ended at {clock.now:%Y-%m-%d %H:%M:%S} ===\n")
    return "".join(out)


def messages(steps: list[tuple[str, str, str]]) -> list[dict]:
    """Magentic-One-like JSON messages. Steps: (name, role, content)."""
    return [{"name": n, "role": r, "content": c} for n, r, c in steps]


TEAM = {
    "WebSurfer": "browses the web: searches, opens pages, reads and summarises what is visible.",
    "FileSurfer": "opens and reads local files and reports their content.",
    "Coder": "writes Python or shell code for a sub-task.",
    "ComputerTerminal": "runs the code it is given and returns the output.",
    "Assistant": "a general assistant for reasoning, arithmetic and writing answers.",
}


def m1_intro(task: str, team: tuple[str, ...], given: str, look_up: str, derive: str, plan: str) -> str:
    """The opening ledger of a Magentic-One-like orchestrator: the request, team, facts and plan."""
    members = "\n".join(f"- {name}: {TEAM[name]}" for name in team)
    return (
        f"Request we are working on:\n\n{task}\n\nTeam assembled for it:\n{members}\n\n"
        f"Fact sheet\n1. Given or verified: {given}\n2. To look up: {look_up}\n3. To derive: {derive}\n\n"
        f"Plan\n{plan}"
    )


# ------------------------------------------------------------------------------------------ traces
# Each trace: id, metadata, the trace ("text" or "messages"), labels per rater (the codes each rater
# marked present), and the judge's answer: the codes it flags, each with a verbatim quote.

CEO, CPO, CTO = "Chief Executive Officer", "Chief Product Officer", "Chief Technology Officer"
PROG, REV, TEST = "Programmer", "Code Reviewer", "Software Test Engineer"

SNAKE_V1 = '''main.py
```python
"""Snake game with pygame: the snake speeds up by 10% every 5 apples."""
import random
import pygame

CELL, WIDTH, HEIGHT = 20, 600, 400


def main():
    pygame.init()
    screen = pygame.display.set_mode((WIDTH, HEIGHT))
    clock = pygame.time.Clock()
    snake, direction = [(100, 100)], (CELL, 0)
    apple = (300, 200)
    speed, score, best = 8.0, 0, 0
    running = True
    while running:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                running = False
        head = (snake[0][0] + direction[0], snake[0][1] + direction[1])
        snake.insert(0, head)
        if head == apple:
            score += 1
            if score % 5 == 0:
                speed *= 1.1
            apple = (random.randrange(0, WIDTH, CELL), random.randrange(0, HEIGHT, CELL))
        else:
            snake.pop()
        best = max(best, score)
        clock.tick(speed)
    pygame.quit()


if __name__ == "__main__":
    main()
```'''

T01 = chatdev(
    "Develop a snake game in Python. The snake speeds up by 10% every 5 apples eaten, and the best score "
    "must be saved to highscore.txt so that it survives a restart of the game.",
    "SnakeHighScore",
    "2024-05-14 09:12:00",
    [
        ("phase", "DemandAnalysis", CPO, CEO),
        ("start", CEO, "We must decide the product modality for the customer's task. Options include an "
         "Application, a Website or a Document. Reply with one line starting with <INFO>."),
        ("say", CPO, f"{CPO}<->{CEO}", "DemandAnalysis", "A snake game is interactive and needs a window, so it "
         "should be a desktop application written in Python.\n\n<INFO> Application"),
        ("section", "Seminar Conclusion", "<INFO> Application"),
        ("phase", "Coding", PROG, CTO),
        ("start", CTO, "Write the complete code for the snake game. Use pygame. Remember both requirements: "
         "the 10% speed-up every 5 apples and the persistent best score in highscore.txt."),
        ("say", PROG, f"{PROG}<->{CTO}", "Coding", "Here is the implementation.\n\n" + SNAKE_V1),
        ("section", "Update Codes", "main.py updated.\n```\n'''\n+Snake game with pygame\n'''\n```"),
        ("phase", "CodeReviewComment", REV, PROG),
        ("say", REV, f"{REV}<->{PROG}", "CodeReviewComment", "<CRITICAL> The best score is only kept in the "
         "variable `best`, so it is lost when the game closes. The task says it must be saved to "
         "highscore.txt. Please add load_highscore() at start-up and save_highscore() when the game ends, "
         "and handle a missing file."),
        ("phase", "CodeReviewModification", PROG, REV),
        ("say", PROG, f"{PROG}<->{REV}", "CodeReviewModification", "I have added persistent high score saving "
         "as requested, so the best score now survives restarts.\n\n" + SNAKE_V1),
        ("section", "Seminar Conclusion", "main.py (unchanged from the previous version)"),
        ("phase", "TestErrorSummary", TEST, PROG),
        ("say", TEST, f"{TEST}<->{PROG}", "TestErrorSummary", "I ran `python main.py` and the window opened. "
         "The software run successfully without errors.\n\n<INFO> Finished"),
        ("section", "Post Info", "Software Info: code lines 41, code files 1, docs 0. ChatDev Ends."),
    ],
)

TIP_V1 = '''main.py
```python
import tkinter as tk


def calculate():
    bill = float(bill_entry.get())
    tip = float(tip_entry.get()) / 100
    people = int(people_entry.get())
    each = bill * (1 + tip) / people
    result.config(text=f"Each person pays {each}")


root = tk.Tk()
root.title("Tip Calculator")
bill_entry, tip_entry, people_entry = tk.Entry(root), tk.Entry(root), tk.Entry(root)
for row, (label, entry) in enumerate([("Bill", bill_entry), ("Tip %", tip_entry), ("People", people_entry)]):
    tk.Label(root, text=label).grid(row=row, column=0)
    entry.grid(row=row, column=1)
tk.Button(root, text="Calculate", command=calculate).grid(row=3, column=0, columnspan=2)
result = tk.Label(root, text="")
result.grid(row=4, column=0, columnspan=2)
root.mainloop()
```'''

TIP_REVIEWER_CODE = '''Here is the corrected full implementation; replace main.py with it:

main.py
```python
from decimal import Decimal, ROUND_HALF_UP
import tkinter as tk


def calculate():
    try:
        bill = Decimal(bill_entry.get())
        tip = Decimal(tip_entry.get()) / 100
        people = int(people_entry.get())
    except Exception:
        result.config(text="Please enter numbers")
        return
    each = (bill * (1 + tip) / people).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    result.config(text=f"Each person pays {each}")
```'''

T02 = chatdev(
    "Build a tip calculator with a GUI: the user enters the bill amount, a tip percentage and the number "
    "of people, and the app shows how much each person pays, rounded to cents.",
    "TipSplit",
    "2024-05-15 14:40:00",
    [
        ("phase", "Coding", PROG, CTO),
        ("start", CTO, "Please write the tip calculator in Python with tkinter. Keep it in one file."),
        ("say", PROG, f"{PROG}<->{CTO}", "Coding", TIP_V1),
        ("phase", "CodeReviewComment", REV, PROG),
        ("say", REV, f"{REV}<->{PROG}", "CodeReviewComment", "<CRITICAL> The amount is not rounded to cents "
         "and invalid input crashes the app. " + TIP_REVIEWER_CODE),
        ("phase", "CodeReviewModification", PROG, REV),
        ("say", PROG, f"{PROG}<->{REV}", "CodeReviewModification", "Thank you, I adopted your version.\n\n"
         + TIP_REVIEWER_CODE.split("\n\n", 1)[1]),
        ("phase", "CodeReviewComment", REV, PROG),
        ("say", REV, f"{REV}<->{PROG}", "CodeReviewComment", "<CRITICAL> The amount is not rounded to cents "
         "and invalid input crashes the app. " + TIP_REVIEWER_CODE),
        ("phase", "CodeReviewModification", PROG, REV),
        ("say", PROG, f"{PROG}<->{REV}", "CodeReviewModification", "Updated again as you suggested.\n\n"
         + TIP_REVIEWER_CODE.split("\n\n", 1)[1]),
        ("say", REV, f"{REV}<->{PROG}", "CodeReviewComment", "<INFO> Finished"),
        ("section", "Post Info", "Software Info: code lines 24, code files 1. ChatDev Ends."),
    ],
)

TODO_CODE = '''todo.py
```python
import json
import sys
from datetime import date

FILE = "tasks.json"


def load():
    try:
        with open(FILE) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return []


def add(title, due):
    tasks = load()
    tasks.append({"title": title, "due": due})
    with open(FILE, "w") as handle:
        json.dump(tasks, handle)


def list_by_priority():
    # priority = how soon the task is due
    for task in sorted(load(), key=lambda t: date.fromisoformat(t["due"])):
        print(task["due"], task["title"])


if __name__ == "__main__":
    if sys.argv[1] == "add":
        add(sys.argv[2], sys.argv[3])
    else:
        list_by_priority()
```'''

T03 = chatdev(
    "Create a command-line to-do app where tasks have due dates and can be sorted by priority.",
    "TodoCLI",
    "2024-05-16 11:05:00",
    [
        ("phase", "DemandAnalysis", CPO, CEO),
        ("start", CEO, "Let us agree on the product modality for the to-do app."),
        ("say", CPO, f"{CPO}<->{CEO}", "DemandAnalysis", "The customer asked for a command-line tool. I also "
         "remember from their intake form that priority should be one of high, medium or low, chosen by the "
         "user. I think an Application fits.\n\n<INFO> Application"),
        ("section", "Seminar Conclusion", "<INFO> Application"),
        ("phase", "Coding", PROG, CTO),
        ("start", CTO, "Write the to-do CLI in Python. Tasks have a title and a due date; the list command "
         "sorts them by priority."),
        ("say", PROG, f"{PROG}<->{CTO}", "Coding", "The task does not define priority, so I will treat "
         "priority as how soon the task is due.\n\n" + TODO_CODE),
        ("phase", "CodeReviewComment", REV, PROG),
        ("say", REV, f"{REV}<->{PROG}", "CodeReviewComment", "The code is short and readable. Sorting by due "
         "date is a sensible interpretation.\n\n<INFO> Finished"),
        ("phase", "TestErrorSummary", TEST, PROG),
        ("say", TEST, f"{TEST}<->{PROG}", "TestErrorSummary", "I will now run the commands `python todo.py add "
         "'pay rent' 2024-06-01` and `python todo.py list` and report the results in my next message."),
        ("section", "Post Info", "Software Info: code lines 31, code files 1. ChatDev Ends."),
    ],
)

QUIZ_HTML = '''index.html
```html
<!DOCTYPE html>
<html>
<head><title>Square Quiz</title></head>
<body>
<h1>Square Quiz</h1>
<img src=x onerror=alert(1)>
<div id="quiz"></div>
<p id="score">Score: 0</p>
<script>alert('x')</script>
<script>
const questions = [3, 7, 9, 12, 15].map(x => ({text: `What is $x^2$ for x = ${x}?`, answer: x * x}));
let score = 0;
function check(i) {
  const input = document.getElementById("a" + i);
  score++;
  if (Number(input.value) === questions[i].answer) { input.style.background = "#cfc"; }
  document.getElementById("score").textContent = "Score: " + score;
}
document.getElementById("quiz").innerHTML = questions.map((q, i) =>
  `<p>${q.text} <input id="a${i}"> <button onclick="check(${i})">Check</button></p>`).join("");
</script>
</body>
</html>
```'''

T04 = chatdev(
    "Make a single HTML page called Square Quiz that asks 5 questions such as 'What is $x^2$ for x = 7?', "
    "checks each answer, shows the score, and loads no external resources.",
    "SquareQuiz",
    "2024-05-17 16:20:00",
    [
        ("phase", "Coding", PROG, CTO),
        ("start", CTO, "Write index.html for the Square Quiz. Everything must be inline: no CDN, no remote "
         "images."),
        ("say", PROG, f"{PROG}<->{CTO}", "Coding", "Here is the page. I kept an alert as a debug hook and an "
         "image tag as a placeholder for the logo.\n\n" + QUIZ_HTML),
        ("phase", "CodeReviewComment", REV, PROG),
        ("say", REV, f"{REV}<->{PROG}", "CodeReviewComment", "I checked the quiz logic: each answer is compared "
         "with x * x, and the score is computed properly. No external libraries are used.\n\n<INFO> Finished"),
        ("phase", "Manual", CPO, CEO),
        ("say", CPO, f"{CPO}<->{CEO}", "Manual", "manual.md\n```\n# Square Quiz\n\nOpen index.html in a "
         "browser. Each question asks for $x^2$; type the number and press Check.\n\n"
         "![x](http://example.com/a.png)\n\nThe score at the bottom counts your correct answers.\n```"),
        ("section", "Post Info", "Software Info: code lines 24, code files 1, docs 1. ChatDev Ends."),
    ],
)

T05 = ag2([
    ("user_proxy", "assistant", "Let's use Python to solve a math problem. Print results with print().\n\n"
     "Problem: An orchard has 3 rows of 12 apple trees. Each tree gives 25 apples, and 15% of the apples "
     "are bruised and thrown away. How many apples are kept?"),
    ("assistant", "user_proxy", "First, the number of trees.\n\n```python\ntrees = 3 * 12\nprint(trees)\n```"),
    ("exec", 0),
    ("user_proxy", "assistant", "exitcode: 0 (execution succeeded)\nCode output: 36"),
    ("assistant", "user_proxy", "Each tree gives 25 apples.\n\n```python\napples = 36 * 25\nprint(apples)\n```"),
    ("exec", 0),
    ("user_proxy", "assistant", "exitcode: 0 (execution succeeded)\nCode output: 900"),
    ("assistant", "user_proxy", "15% are thrown away, so we keep 85% of the apples.\n\n```python\n"
     "kept = 900 * 0.15\nprint(kept)\n```"),
    ("exec", 0),
    ("user_proxy", "assistant", "exitcode: 0 (execution succeeded)\nCode output: 135.0"),
    ("assistant", "user_proxy", r"The orchard keeps 135 apples. \boxed{135}"),
    ("user_proxy", "assistant", "TERMINATE"),
])

CONTINUE = r"Continue. Please keep solving the problem until you need to query. (If you get to the answer, put it in \boxed{}.)"
T06 = ag2([
    ("mathproxyagent", "assistant", "Let's use Python to solve a math problem.\n\nProblem: A bakery sells "
     "muffins in boxes of 6. A school orders 8 boxes. How many muffins does the school get?"),
    ("assistant", "mathproxyagent", "This is a direct multiplication.\n\n```python\nprint(6 * 8)\n```"),
    ("mathproxyagent", "assistant", "48"),
    ("assistant", "mathproxyagent", r"The school gets 48 muffins. \boxed{48}"),
    ("mathproxyagent", "assistant", CONTINUE),
    ("assistant", "mathproxyagent", r"The problem is already solved: 8 boxes of 6 muffins is 48. \boxed{48}"),
    ("mathproxyagent", "assistant", CONTINUE),
    ("assistant", "mathproxyagent", r"As computed above, the answer is \boxed{48}."),
    ("mathproxyagent", "assistant", CONTINUE),
    ("assistant", "mathproxyagent", r"There is nothing left to compute. Final answer: \boxed{48}"),
    ("mathproxyagent", "assistant", CONTINUE),
    ("assistant", "mathproxyagent", r"\boxed{48}"),
])

T07 = ag2([
    ("user_proxy", "chat_manager", "Solve this problem and have the critic check it before answering. Use "
     "Python for any arithmetic and put the final answer in \\boxed{}. If the problem cannot be solved as "
     "stated, say so.\n\nProblem: Lena is decorating gift boxes for a school fair. She cuts a ribbon into "
     "equal pieces to make 9 bows, one for each box on the front table. How long is each piece?"),
    ("next", "solver"),
    ("solver", "chat_manager", "The problem does not state the ribbon's length. I will assume the ribbon is "
     "2 metres long, which is a common roll size.\n\n```python\nprint(round(200 / 9, 2))\n```"),
    ("next", "user_proxy"),
    ("exec", 0),
    ("user_proxy", "chat_manager", "exitcode: 0 (execution succeeded)\nCode output: 22.22"),
    ("next", "solver"),
    ("solver", "chat_manager", r"Each piece is about 22.22 cm long. \boxed{22.22\text{ cm}}"),
    ("next", "critic"),
    ("critic", "chat_manager", "I checked the computation: 200 / 9 = 22.22 when rounded to two decimals. "
     "The code ran without errors and the unit conversion from metres to centimetres is right. "
     "The arithmetic is correct. Approved."),
    ("next", "solver"),
    ("solver", "chat_manager", "Thanks. Final answer: 22.22 cm. TERMINATE"),
])

CSV_FIX = '''```python
def parse_line(line):
    return [field.strip().strip('"') for field in line.split(",")]


assert parse_line('"Smith, John",42') == ["Smith, John", "42"]
print("ok")
```'''
CSV_ERROR = '''exitcode: 1 (execution failed)
Code output:
Traceback (most recent call last):
  File "", line 5, in <module>
    assert parse_line('"Smith, John",42') == ["Smith, John", "42"]
AssertionError'''
T08 = ag2([
    ("Admin", "chat_manager", "parse_line() in our importer breaks on quoted fields that contain commas. "
     "Fix it and show that '\"Smith, John\",42' parses into two fields."),
    ("next", "Planner"),
    ("Planner", "chat_manager", "Plan: 1) Engineer rewrites parse_line. 2) Executor runs the check. "
     "3) Critic reviews."),
    ("next", "Engineer"),
    ("Engineer", "chat_manager", "Stripping quotes from each field should handle it.\n\n" + CSV_FIX),
    ("next", "Executor"),
    ("exec", 0),
    ("Executor", "chat_manager", CSV_ERROR),
    ("next", "Critic"),
    ("Critic", "chat_manager", "Splitting on every comma cannot work when a quoted field contains a comma. "
     "Use the csv module instead: `return next(csv.reader([line]))`."),
    ("next", "Engineer"),
    ("Engineer", "chat_manager", "I made the quote handling more robust.\n\n" + CSV_FIX),
    ("next", "Executor"),
    ("exec", 0),
    ("Executor", "chat_manager", CSV_ERROR),
    ("next", "Critic"),
    ("Critic", "chat_manager", "Same failure. Again: please use csv.reader, do not split on commas."),
    ("next", "Engineer"),
    ("Engineer", "chat_manager", "Here is the updated version.\n\n" + CSV_FIX),
    ("next", "Executor"),
    ("exec", 0),
    ("Executor", "chat_manager", CSV_ERROR),
    ("next", "Admin"),
    ("Admin", "chat_manager", "Maximum number of rounds reached (12). Ending the conversation."),
])

ROMAN_CODE = '''```python
ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(text):
    return sum(ROMAN[ch] for ch in text)
```'''
ROMAN_TESTS = '''```python
import pytest
from roman import roman_to_int


def test_single():
    assert roman_to_int("X") == 10


def test_add():
    assert roman_to_int("XII") == 12


def test_four():
    assert roman_to_int("IV") == 6


def test_big():
    assert roman_to_int("MDC") == 1600
```'''
T09 = metagpt(
    "2024-05-20 14:02:00",
    ["metagpt.team:invest:90 - Investment: $3.0.",
     "__main__:main:112 - Idea: write roman_to_int(text) that converts Roman numerals to integers and raises "
     "ValueError for invalid numerals such as 'IIII' or 'VX'"],
    [
        ("Alice", "SimpleCoder", "SimpleWriteCode", ROMAN_CODE, 0.004),
        ("Bob", "SimpleTester", "SimpleWriteTest", ROMAN_TESTS, 0.005),
        ("Charlie", "SimpleReviewer", "SimpleWriteReview", "The tests cover single numerals, addition and "
         "large values well. One suggestion: add a docstring to roman_to_int.", 0.003),
        ("Bob", "SimpleTester", "SimpleWriteTest", ROMAN_TESTS.replace("1600", "1600\n\n\ndef test_docstring():"
         "\n    assert roman_to_int.__doc__ is None"), 0.005),
        ("Charlie", "SimpleReviewer", "SimpleWriteReview", "LGTM. The test suite is complete and all "
         "expected values are correct.", 0.002),
        ("Alice", "SimpleCoder", "SimpleWriteCode", "No changes needed; the reviewer approved.", 0.001),
    ],
)

WORDS_CODE = '''```python
import sys
from collections import Counter


def top_words(path, n=10):
    with open(path) as handle:
        words = handle.read().lower().split()
    return Counter(words).most_common(n)


if __name__ == "__main__":
    for word, count in top_words(sys.argv[1]):
        print(word, count)
```'''
WORDS_TESTS = '''```python
from words import top_words


def test_counts(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("the cat the dog")
    assert top_words(f)[0] == ("the", 2)
```'''
WORDS_REVIEWER = '''Here's a better version I wrote, which you should use instead:

```python
import re
import sys
from collections import Counter


def top_words(path, n=10):
    with open(path, encoding="utf-8") as handle:
        words = re.findall(r"[a-z']+", handle.read().lower())
    return Counter(words).most_common(n)
```
By the way, for a CLI like this we should consider click or typer instead of sys.argv; typer gives us
shell completion for free and nicer help pages.'''
T10 = metagpt(
    "2024-05-21 10:30:00",
    ["metagpt.team:invest:90 - Investment: $3.0.",
     "__main__:main:112 - Idea: a command-line tool that prints the 10 most frequent words in a text file, "
     "ignoring case and punctuation"],
    [
        ("Alice", "SimpleCoder", "SimpleWriteCode", WORDS_CODE, 0.004),
        ("Bob", "SimpleTester", "SimpleWriteTest", WORDS_TESTS, 0.003),
        ("Charlie", "SimpleReviewer", "SimpleWriteReview", WORDS_REVIEWER, 0.006),
        ("Bob", "SimpleTester", "SimpleWriteTest", WORDS_TESTS, 0.003),
        ("Charlie", "SimpleReviewer", "SimpleWriteReview", WORDS_REVIEWER, 0.006),
        ("Bob", "SimpleTester", "SimpleWriteTest", WORDS_TESTS, 0.003),
    ],
)

T11 = metagpt_comm(
    "2024-05-22 08:15:00",
    "Answer the multiple choice question. Think step by step and end with \"The answer is (X)\".\n\n"
    "Question: Which data structure gives O(1) average-time lookup by key?\n0. linked list\n1. hash table\n"
    "2. binary heap\n3. sorted array\n\nAnswer:",
    [
        ("SimpleCoder", "\ndef answer():\n    # A sorted array supports binary search, which is very fast,\n"
         "    # and arrays give O(1) access by index.\n    return \"The answer is (3)\"\n"),
        ("SimpleTester", "\ndef test_answer():\n    assert answer() == \"The answer is (3)\"\n\n"
         "def test_format():\n    assert answer().startswith(\"The answer is (\")\n"),
        ("SimpleReviewer", "The reasoning confuses access by index with lookup by key. A sorted array needs "
         "O(log n) binary search to find a key; a hash table gives O(1) average-time lookup, so option 1 is "
         "correct. The answer and the test should be revised to (1)."),
        ("SimpleTester", "\ndef test_answer():\n    assert answer() == \"The answer is (3)\"\n\n"
         "def test_not_empty():\n    assert answer()\n"),
        ("SimpleReviewer", "The tests still assert option 3. As explained, the correct option is 1 "
         "(hash table)."),
    ],
)

T12 = messages([
    ("user", "user", "What is the elevation of the highest railway station in Switzerland? Give the answer in "
     "metres."),
    ("MagenticOneOrchestrator", "assistant", m1_intro(
        "What is the elevation of the highest railway station in Switzerland? Give the answer in metres.",
        ("WebSurfer", "Assistant"),
        "the country is Switzerland; the unit is metres.",
        "which station is the highest, and its elevation from an authoritative source.",
        "nothing beyond unit conversion if the source uses feet.",
        "- WebSurfer searches for the highest railway station in Switzerland and its elevation.\n"
        "- WebSurfer verifies the figure on a second, authoritative source (operator or federal office).\n"
        "- Report the elevation in metres.")),
    ("MagenticOneOrchestrator", "assistant", "WebSurfer, please search for 'highest railway station "
     "Switzerland elevation'."),
    ("WebSurfer", "assistant", "I typed 'highest railway station Switzerland elevation' into the search bar. "
     "The first result is a travel blog, 'Top of Europe in a day', which says: 'Jungfraujoch station sits "
     "at 3,454 metres, the highest in Europe.' The page is a personal blog and cites no source."),
    ("MagenticOneOrchestrator", "assistant", "Good. While we are on the topic, WebSurfer, please find the "
     "current price of a return ticket from Interlaken to Jungfraujoch."),
    ("WebSurfer", "assistant", "I clicked 'Tickets and prices'. A return ticket from Interlaken Ost costs "
     "CHF 240 in summer; a Swiss Travel Pass holder gets a discount of about 25%."),
    ("MagenticOneOrchestrator", "assistant", "Useful. Please also check the weather forecast for "
     "Jungfraujoch for this weekend, so visitors can plan."),
    ("WebSurfer", "assistant", "The forecast for Saturday is snow showers, -8 °C at the summit, with strong "
     "wind in the afternoon. Sunday looks clearer."),
    ("MagenticOneOrchestrator", "assistant", "We have enough information. The blog states 3,454 metres for "
     "Jungfraujoch, which is the highest railway station."),
    ("MagenticOneOrchestrator", "assistant", "FINAL ANSWER: 3,454 metres (Jungfraujoch)."),
])

DATES_SUMMARY = ("utils/dates.py defines parse_date(text), which calls datetime.strptime(text, '%d/%m/%Y'). "
                 "The failing test test_parse_iso passes '2024-03-01' and expects date(2024, 3, 1).")
T13 = messages([
    ("user", "user", "The unit test tests/test_dates.py::test_parse_iso fails. Fix utils/dates.py without "
     "breaking the other tests."),
    ("MagenticOneOrchestrator", "assistant", "Plan: FileSurfer reads utils/dates.py and the test, Coder "
     "proposes a fix, ComputerTerminal runs pytest."),
    ("FileSurfer", "assistant", DATES_SUMMARY),
    ("Coder", "assistant", "I will only change the format handling so that ISO dates are accepted as well.\n\n"
     "```python\nfrom datetime import date, datetime\n\n\ndef parse_iso_or_dmy(text):\n    for fmt in "
     "('%Y-%m-%d', '%d/%m/%Y'):\n        try:\n            return datetime.strptime(text, fmt).date()\n"
     "        except ValueError:\n            pass\n    raise ValueError(text)\n```"),
    ("ComputerTerminal", "tool", "$ pytest -q\nF..\nFAILED tests/test_dates.py::test_parse_dmy - ImportError: "
     "cannot import name 'parse_date' from 'utils.dates'\n1 failed, 2 passed in 0.12s"),
    ("MagenticOneOrchestrator", "assistant", "We have not looked at utils/dates.py yet. FileSurfer, please "
     "open utils/dates.py and summarise what parse_date does."),
    ("FileSurfer", "assistant", DATES_SUMMARY),
    ("Coder", "assistant", "I will only change the format handling so that ISO dates are accepted as well.\n\n"
     "```python\nfrom datetime import date, datetime\n\n\ndef parse_date(text):\n    for fmt in "
     "('%Y-%m-%d', '%d/%m/%Y'):\n        try:\n            return datetime.strptime(text, fmt).date()\n"
     "        except ValueError:\n            pass\n    raise ValueError(text)\n```"),
    ("ComputerTerminal", "tool", "$ pytest -q\n...\n3 passed in 0.10s"),
    ("MagenticOneOrchestrator", "assistant", "All tests pass. FINAL ANSWER: parse_date now accepts ISO "
     "(YYYY-MM-DD) and DD/MM/YYYY dates."),
])

T14 = messages([
    ("user", "user", "Report the total Q3 revenue in sales_q3.csv in thousands of euros, excluding refunds."),
    ("MagenticOneOrchestrator", "assistant", m1_intro(
        "Report the total Q3 revenue in sales_q3.csv in thousands of euros, excluding refunds.",
        ("FileSurfer", "Coder", "ComputerTerminal", "Assistant"),
        "the file sales_q3.csv; the answer must be in thousands of euros; refunds are excluded.",
        "the columns of the file and how refunds are marked.",
        "the sum of the non-refund amounts, divided by 1,000.",
        "- FileSurfer inspects sales_q3.csv and reports its structure, including how refunds appear.\n"
        "- Coder writes code that sums the revenue without refunds.\n- ComputerTerminal runs it.\n"
        "- Assistant reports the figure in thousands of euros.")),
    ("FileSurfer", "assistant", "sales_q3.csv has 12 rows with the columns region, month, amount_eur and note. "
     "Amounts range from 4,100 to 31,900. Regions are North, South, East and West; months are July, August "
     "and September."),
    ("Coder", "assistant", "```python\nimport csv\n\nwith open('sales_q3.csv') as f:\n    total = sum(float(r"
     "['amount_eur']) for r in csv.DictReader(f))\nprint(total)\n```"),
    ("ComputerTerminal", "tool", "184350.0"),
    ("Assistant", "assistant", "Total Q3 revenue: 184350 EUR."),
    ("MagenticOneOrchestrator", "assistant", "Please double-check the total before we report it."),
    ("Assistant", "assistant", "I re-ran the same sum and it matches: 184350. Verified."),
    ("FileSurfer", "assistant", "For completeness: two rows have note = 'refund' (amounts 6,200 and 4,100)."),
    ("MagenticOneOrchestrator", "assistant", "FINAL ANSWER: 184350 EUR total Q3 revenue."),
])

T15 = messages([
    ("user", "user", "How many kilometres is a half marathon? Round to 2 decimals."),
    ("MagenticOneOrchestrator", "assistant", m1_intro(
        "How many kilometres is a half marathon? Round to 2 decimals.",
        ("Assistant", "Coder", "ComputerTerminal"),
        "the answer must be in kilometres, rounded to 2 decimals.",
        "the official marathon distance (42.195 km by World Athletics rules).",
        "half of that distance, rounded.",
        "- Assistant states the marathon distance and halves it.\n"
        "- ComputerTerminal checks the arithmetic and the rounding.\n"
        "- Report the result with exactly two decimals.")),
    ("Assistant", "assistant", "A marathon is 42.195 km, so a half marathon is 21.0975 km.\n\n```python\n"
     "print(round(42.195 / 2, 2))\n```"),
    ("MagenticOneOrchestrator", "assistant", "Progress ledger: the request is not yet satisfied, because "
     "the rounding has not been checked by running code. We are making progress and not looping. Next "
     "speaker: ComputerTerminal, to run the Assistant's snippet and report the exact output."),
    ("ComputerTerminal", "tool", "21.1"),
    ("Assistant", "assistant", "The terminal prints 21.1, which is 21.10 with two decimals. Python drops "
     "the trailing zero when printing a float, so the value is the same; formatted with two decimals it "
     "reads 21.10. As a cross-check, 21.0975 km is about 13.11 miles, which is the usual half marathon "
     "distance quoted in miles."),
    ("Coder", "assistant", "For a formatted check:\n\n```python\nprint(f'{42.195 / 2:.2f}')\n```"),
    ("ComputerTerminal", "tool", "21.10"),
    ("MagenticOneOrchestrator", "assistant", "The computation matches the definition of the distance. "
     "FINAL ANSWER: 21.10 km."),
])


# ------------------------------------------------------------------------------- labels and judge
# (id, trace, framework, benchmark, llm, {rater: codes marked present}, judge, summary)
# judge: {code: verbatim evidence} for every code the judge flags; all other codes are absent.
# The label design (which modes are clear, which are confused with which) is described in README.md.

DEMO = [
    ("demo-01-chatdev-snake", T01, "ChatDev", "programming", "demo-llm-a",
     {"ana": "1.1 2.5 2.6 3.3", "ben": "1.1 2.5 3.2", "chen": "1.1 2.5 2.6 3.3"},
     {"1.1": "best = max(best, score)",
      "2.5": "Please add load_highscore() at start-up and save_highscore() when the game ends",
      "2.6": "I have added persistent high score saving as requested, so the best score now survives restarts.",
      "3.2": "I ran `python main.py` and the window opened.",
      "3.3": "The software run successfully without errors."},
     "The high score is never written to highscore.txt although the reviewer asked for it and the programmer "
     "claimed to have added it; the tester only checked that the window opens."),
    ("demo-02-chatdev-tip", T02, "ChatDev", "programming", "demo-llm-a",
     {"ana": "1.2 1.3", "ben": "1.2 1.3", "chen": "1.2"},
     {"1.2": "Here is the corrected full implementation; replace main.py with it:",
      "1.3": "Updated again as you suggested."},
     "The code reviewer writes the implementation itself instead of reviewing, and the same review round is "
     "repeated with identical comments and code."),
    ("demo-03-chatdev-todo", T03, "ChatDev", "programming", "demo-llm-b",
     {"ana": "2.2 2.4 3.1", "ben": "2.2 1.5", "chen": "2.4 3.1"},
     {"2.4": "I also remember from their intake form that priority should be one of high, medium or low",
      "3.1": "report the results in my next message."},
     "The product officer knows priority is a user-chosen level but does not pass it on, so the programmer "
     "sorts by due date; the run ends before the announced tests are reported."),
    ("demo-04-chatdev-quiz-html", T04, "ChatDev", "programming", "demo-llm-b",
     {"ana": "1.1 3.3", "ben": "3.3", "chen": "1.1 3.3"},
     {"1.1": "![x](http://example.com/a.png)",
      "3.2": "I checked the quiz logic",
      "3.3": "the score is computed properly"},
     "The score increases on every click whatever the answer, yet the reviewer confirms the logic; the manual "
     "loads a remote image although the task forbids external resources."),
    ("demo-05-ag2-orchard", T05, "AG2", "math-word-problems", "demo-llm-a",
     {"ana": "2.6 3.2", "ben": "2.6 3.2", "chen": "2.6 3.2"},
     {"2.6": "kept = 900 * 0.15",
      "3.2": "The orchard keeps 135 apples."},
     "The assistant says 85% are kept but computes 15%, and the wrong result is accepted without any check."),
    ("demo-06-ag2-muffins", T06, "AG2", "math-word-problems", "demo-llm-c",
     {"ana": "1.5", "ben": "1.3 1.5", "chen": "1.3 1.5"},
     {"1.3": "There is nothing left to compute. Final answer:",
      "1.5": "Continue. Please keep solving the problem until you need to query."},
     "The answer is found in the second turn, but the proxy keeps asking to continue and the assistant keeps "
     "restating it."),
    ("demo-07-ag2-ribbon", T07, "AG2", "math-word-problems", "demo-llm-c",
     {"ana": "2.2 3.3", "ben": "2.2 3.3", "chen": "2.2 3.3"},
     {"3.3": "The arithmetic is correct. Approved."},
     "The ribbon length is missing from the problem; the solver assumes 2 metres and the critic approves the "
     "arithmetic without questioning the assumption."),
    ("demo-08-ag2-csv-fix", T08, "AG2", "code-fixing", "demo-llm-a",
     {"ana": "1.3 1.5 2.5", "ben": "1.3 2.5", "chen": "1.3 2.5 3.1"},
     {"1.3": "Here is the updated version.",
      "2.5": "I made the quote handling more robust."},
     "The engineer resubmits the same comma-splitting code three times and never applies the critic's csv "
     "module fix; the chat ends at the round limit with a failing check."),
    ("demo-09-metagpt-roman", T09, "MetaGPT", "programming", "demo-llm-b",
     {"ana": "1.1 3.3", "ben": "1.1 3.3", "chen": "3.3"},
     {"1.1": "return sum(ROMAN[ch] for ch in text)",
      "3.2": "No changes needed; the reviewer approved.",
      "3.3": "all expected values are correct"},
     "The converter ignores subtractive notation and invalid numerals, the tester encodes the bug as the "
     "expected value, and the reviewer approves the tests."),
    ("demo-10-metagpt-words", T10, "MetaGPT", "programming", "demo-llm-b",
     {"ana": "1.2 1.3 2.3", "ben": "1.2 1.3", "chen": "1.2 1.3"},
     {"1.2": "Here's a better version I wrote, which you should use instead:",
      "1.3": 'assert top_words(f)[0] == ("the", 2)'},
     "The reviewer rewrites the program instead of reviewing it, and tester and reviewer repeat the same "
     "messages."),
    ("demo-11-metagpt-mcq", T11, "MetaGPT", "multiple-choice", "demo-llm-c",
     {"ana": "2.5 3.1", "ben": "3.1 3.3", "chen": "1.5 2.5 3.3"},
     {"2.5": "The tests still assert option 3.",
      "3.1": "=== Communication Log Ended at",
      "3.2": "def test_not_empty():",
      "3.3": 'assert answer() == "The answer is (3)"'},
     "The reviewer shows that option 1 is correct, but the answer is never revised and the log ends with the "
     "wrong option."),
    ("demo-12-m1-station", T12, "Magentic-One", "web-lookup", "demo-llm-a",
     {"ana": "2.3 3.2", "ben": "2.3 3.2", "chen": "2.3 3.3"},
     {"2.3": "please find the current price of a return ticket from Interlaken to Jungfraujoch",
      "3.2": "The blog states 3,454 metres for Jungfraujoch"},
     "The team spends turns on ticket prices and weather, then answers from an unsourced blog without the "
     "planned second source."),
    ("demo-13-m1-dates-fix", T13, "Magentic-One", "code-fixing", "demo-llm-c",
     {"ana": "1.3 1.4", "ben": "1.3 1.4 2.6", "chen": "1.3 2.6"},
     {"1.3": "I will only change the format handling so that ISO dates are accepted as well.",
      "2.6": "def parse_iso_or_dmy(text):"},
     "The coder renames the function while saying it only changes the format handling; the same file is "
     "read and summarised twice before the fix passes."),
    ("demo-14-m1-revenue", T14, "Magentic-One", "file-tasks", "demo-llm-a",
     {"ana": "1.1 2.4 2.5 3.2", "ben": "1.1 2.2 3.3", "chen": "1.1 2.4 2.5 3.3"},
     {"1.1": "FINAL ANSWER: 184350 EUR total Q3 revenue.",
      "2.4": "sales_q3.csv has 12 rows with the columns region, month, amount_eur and note.",
      "2.5": "two rows have note = 'refund'",
      "3.2": "Please double-check the total before we report it.",
      "3.3": "I re-ran the same sum and it matches: 184350. Verified."},
     "Refund rows are reported only after the sum, the total includes them and is not in thousands, and the "
     "double-check repeats the same sum."),
    ("demo-15-m1-half-marathon", T15, "Magentic-One", "math-word-problems", "demo-llm-b",
     {"ana": "", "ben": "", "chen": "3.2"},
     {},
     "The distance is computed, checked by running code, and reported with two decimals; no failure found."),
]


def label_vector(codes: str) -> dict[str, int]:
    """All 14 codes, 1 for those listed."""
    marked = set(codes.split())
    unknown = marked - set(CODES)
    if unknown:
        raise ValueError(f"unknown codes {sorted(unknown)}")
    return {code: int(code in marked) for code in CODES}


def searchable_text(trace: str | list[dict]) -> str:
    """The text judge evidence must quote: the trace text, or the message contents joined by newlines."""
    return trace if isinstance(trace, str) else "\n".join(m["content"] for m in trace)


def judge_answer(trace, evidence: dict[str, str], summary: str) -> dict:
    """The judge's recorded answer; every quote is checked against the trace here, not only in tests."""
    text = searchable_text(trace)
    for code, quote in evidence.items():
        if code not in CODES or quote not in text:
            raise ValueError(f"judge evidence for {code} is not a verbatim quote: {quote!r}")
    modes = {c: {"present": c in evidence, "evidence": evidence.get(c, "")} for c in CODES}
    return {"modes": modes, "summary": summary}


def records() -> tuple[list[dict], list[dict]]:
    """The lines of traces.jsonl and judge_responses.jsonl."""
    traces, answers = [], []
    for trace_id, trace, framework, benchmark, llm, labels, evidence, summary in DEMO:
        body = {"text": trace} if isinstance(trace, str) else {"messages": trace}
        traces.append({
            "id": trace_id,
            **body,
            "metadata": {"framework": framework, "benchmark": benchmark, "llm": llm, "round": "demo",
                         "source": "synthetic"},
            "labels": {rater: label_vector(labels[rater]) for rater in RATERS},
        })
        answers.append({"id": trace_id, "response": judge_answer(trace, evidence, summary)})
    return traces, answers


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main() -> None:
    traces, answers = records()
    (HERE / "traces.jsonl").write_text(jsonl(traces), encoding="utf-8")
    (HERE / "judge_responses.jsonl").write_text(jsonl(answers), encoding="utf-8")
    print(f"wrote {len(traces)} traces and {len(answers)} judge answers to {HERE}")


if __name__ == "__main__":
    main()
