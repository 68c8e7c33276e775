"""The annotators' progress as a lead reads it: annotators only, times in words, nothing shown as None.
Pure functions, no Streamlit (tested directly).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NEVER = "never"


def when(iso: str | None, now: datetime) -> str:
    """"2026-11-30 11:02 UTC (3 hours ago)" from a stored UTC time; "never" when there is none."""
    if not iso:
        return NEVER
    moment = datetime.fromisoformat(iso)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago(now - moment)})"


def ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def annotator_rows(team: list[dict], now: datetime | None = None) -> list[dict]:
    """One row per annotator (role annotator, or anyone holding segments to label); reviewers and admins
    who label nothing are left out."""
    now = now or datetime.now(UTC)
    return [{"annotator": row["name"], "active": "yes" if row["active"] else "no", "assigned": row["assigned"],
             "done": row["done"], "unsure": row["unsure"], "skipped": row["skipped"],
             "remaining": row["assigned"] - row["done"] - row["unsure"] - row["skipped"],
             "last submission": when(row["last_submission"], now)}
            for row in team if row["role"] == "annotator" or row["assigned"]]
