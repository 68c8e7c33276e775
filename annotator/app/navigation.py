"""Which pages each role sees. Pure data; main.py turns it into st.Page objects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VIEWS = Path(__file__).resolve().parent / "views"
ROLE_RANK = {"annotator": 0, "reviewer": 1, "admin": 2}


@dataclass(frozen=True)
class PageSpec:
    title: str
    file: str  # under views/
    min_role: str
    icon: str  # an emoji: it becomes the favicon, and a Material icon favicon would load from a CDN


PAGES = (
    PageSpec("Annotate", "annotate.py", "annotator", "✏️"),
    PageSpec("Review", "review.py", "reviewer", "⚖️"),
    PageSpec("Agreement", "agreement.py", "reviewer", "📊"),
    PageSpec("Judge lab", "judge_lab.py", "admin", "🤖"),
    PageSpec("Taxonomy", "taxonomy.py", "admin", "🗂️"),
    PageSpec("Data", "data.py", "admin", "🗄️"),
)


def allowed(role: str, min_role: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[min_role]


def pages_for(role: str) -> list[PageSpec]:
    """The pages a role may open, in menu order."""
    return [p for p in PAGES if allowed(role, p.min_role)]
