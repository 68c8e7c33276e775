"""Which pages each role sees. Pure data; main.py turns it into st.Page objects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

VIEWS = Path(__file__).resolve().parents[1] / "views"
ROLE_RANK = {"annotator": 0, "reviewer": 1, "admin": 2}


@dataclass(frozen=True)
class PageSpec:
    title: str
    file: str  # under views/
    min_role: str
    icon: str  # Material icons come with the app; main.py sets an emoji favicon so none is fetched from a CDN


PAGES = (
    PageSpec("Annotate", "annotate.py", "annotator", ":material/edit_note:"),
    PageSpec("Review", "review.py", "reviewer", ":material/rule:"),
    PageSpec("Agreement", "agreement.py", "reviewer", ":material/insights:"),
    PageSpec("Judge lab", "judge_lab.py", "admin", ":material/smart_toy:"),
    PageSpec("Taxonomy", "taxonomy.py", "reviewer", ":material/category:"),  # the editor inside is admin only
    PageSpec("Data", "data.py", "admin", ":material/database:"),
)


def allowed(role: str, min_role: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[min_role]


def pages_for(role: str) -> list[PageSpec]:
    """The pages a role may open, in menu order."""
    return [p for p in PAGES if allowed(role, p.min_role)]
