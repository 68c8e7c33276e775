"""The annotation service: what the Annotate page shows and what Submit and Skip write.

No Streamlit here: the page calls these functions, and so do tests and the benchmark. The rater is
always the signed-in user's rater; nothing a browser sends can name another one.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from annotator import store
from annotator.core.errors import RefusedError
from annotator.services import naming, neighbours
from annotator.services.neighbours import Neighbours
from annotator.store.users import User


class AnnotateError(RefusedError):
    """A submission the service refuses; the message tells the annotator what to change."""


@dataclass(frozen=True)
class Workload:
    """Her assignment: what she has answered, what she skipped, and what is left (skipped is not done)."""

    labelled: int  # submitted with labels (unsure included)
    unsure: int
    skipped: int
    in_list: int  # claimed, not answered yet
    in_queue: int  # she could still claim (others may take some first): at most this many more

    @property
    def remaining(self) -> int:
        return self.in_list + self.in_queue

    @property
    def total(self) -> int:
        return self.labelled + self.skipped + self.remaining


def workload(db: sqlite_utils.Database, user: User, settings: store.QueueSettings | None = None) -> Workload:
    settings = settings or store.get_settings(db)
    progress = store.rater_progress(db, user.rater_id)
    in_pool = user.rater_id in store.pool_rater_ids(db, settings)
    return Workload(labelled=progress.done - progress.skipped, unsure=progress.unsure, skipped=progress.skipped,
                    in_list=progress.pending,
                    in_queue=store.claimable_count(db, user.rater_id, settings.k) if in_pool else 0)


@dataclass(frozen=True)
class SegmentView:
    """Everything the Annotate page shows for one segment of one annotator's list."""

    segment: store.SegmentRow
    trace: store.TraceRow
    neighbours: Neighbours  # the segments on either side in the same trace, and its place there
    taxonomy: store.StoredTaxonomy
    status: str  # her assignment: pending | done | skipped | unsure
    mine: store.RaterLabels | None  # her current labels, if she has submitted some
    history: list[tuple[str, str]]  # (time, status) of her submissions for this segment
    place: store.ListPosition
    progress: store.Progress
    workload: Workload
    others: list[store.RaterLabels] | None  # None: hidden by the blind rule; named by the reveal_names rule
    full: bool = False  # she skipped it and it went to k others since: she can no longer label it


def labelling_taxonomy(db: sqlite_utils.Database, settings: store.QueueSettings | None = None) -> store.StoredTaxonomy:
    """The taxonomy version annotators label with (the `taxonomy` setting, latest version by default)."""
    return store.get_taxonomy(db, (settings or store.get_settings(db)).taxonomy)


def next_segment_id(db: sqlite_utils.Database, user: User, settings: store.QueueSettings | None = None) -> int | None:
    """Her first unsubmitted segment; when she has none, claim one more (if she is in the pool)."""
    pending = store.pending_segment(db, user.rater_id)
    if pending is not None:
        return pending
    settings = settings or store.get_settings(db)
    if user.rater_id not in store.pool_rater_ids(db, settings):
        return None
    claimed = store.claim(db, user.rater_id, k=settings.k, lease_minutes=settings.lease_minutes)
    return claimed[0] if claimed else None


def in_pool(db: sqlite_utils.Database, user: User) -> bool:
    return user.rater_id in store.pool_rater_ids(db, store.get_settings(db))


def may_see_others(settings: store.QueueSettings, status: str) -> bool:
    """The blind rule: other raters' labels only after the lead opens the reveal phase, and only for
    segments she has submitted (labelled or unsure; a skipped segment was never judged by her)."""
    return settings.reveal and status in ("done", "unsure")


def load_view(db: sqlite_utils.Database, user: User, segment_id: int | None = None) -> SegmentView | None:
    """The segment to show: `segment_id` if it is in her list, else her next one (claimed if needed).

    Returns None when she has nothing to label.
    """
    settings = store.get_settings(db)
    if segment_id is None or store.assignment_status(db, user.rater_id, segment_id) is None:
        segment_id = next_segment_id(db, user, settings)
    if segment_id is None:
        return None
    segment = store.get_segment(db, segment_id)
    taxonomy = labelling_taxonomy(db, settings)
    status = store.assignment_status(db, user.rater_id, segment_id)
    mine = store.labels_for_segment(db, segment_id, taxonomy.id, rater_id=user.rater_id)
    others = None
    if may_see_others(settings, status):
        others = naming.shown(db, store.labels_for_segment(db, segment_id, taxonomy.id,
                                                           exclude_rater_id=user.rater_id), settings.reveal_names)
    return SegmentView(
        segment=segment,
        trace=store.get_trace(db, segment.trace_id),
        neighbours=neighbours.around(db, segment),
        taxonomy=taxonomy,
        status=status,
        mine=mine[0] if mine else None,
        history=store.submission_history(db, segment_id, user.rater_id),
        place=store.list_position(db, user.rater_id, segment_id),
        progress=store.rater_progress(db, user.rater_id),
        workload=workload(db, user, settings),
        others=others,
        full=status == "skipped" and store.segment_full(db, segment_id, settings.k),
    )


@dataclass(frozen=True)
class Choice:
    """What she ticked for one segment."""

    modes: frozenset[str]  # codes of the modes she marks present
    no_failure: bool = False
    unsure: bool = False
    rationales: dict[str, str] | None = None  # code -> short reason, for marked modes


RATIONALE_MAX = 500


def check_choice(choice: Choice, taxonomy: store.StoredTaxonomy) -> None:
    """Refuse an empty or contradictory choice before anything is written.

    'Unsure' alone is an answer: she looked and cannot tell. Its labels are all absent, like her ticks
    on any unsure submission they are left out of agreement and gold unless the lead counts unsure
    answers (`--unsure include`), and then they read as her best guess: nothing seen.
    """
    unknown = sorted(set(choice.modes) - set(taxonomy.mode_ids))
    if unknown:
        raise AnnotateError(f"unknown mode(s) {', '.join(unknown)} in {taxonomy.taxonomy.ref}")
    if choice.no_failure and choice.modes:
        raise AnnotateError("You ticked 'No failure' and some modes: untick one or the other.")
    if not (choice.no_failure or choice.modes or choice.unsure):
        raise AnnotateError("Tick the failure modes you see, 'No failure' if there are none, or 'Unsure'.")


def _own_assignment(db: sqlite_utils.Database, user: User, segment_id: int) -> str:
    status = store.assignment_status(db, user.rater_id, segment_id)
    if status is None:
        raise AnnotateError(f"segment {segment_id} is not in your list (a claim left unused longer than the "
                            "lease goes back to the queue): open your next segment")
    return status


def _check_session(db: sqlite_utils.Database, user: User) -> None:
    """Inside the write transaction: a user signed in with a token must still hold it (and be active)."""
    if user.token_hash is not None and store.session_user(db, user.id, user.token_hash) is None:
        raise AnnotateError("Your session ended (your access token was replaced or your account disabled): "
                            "nothing was saved. Sign in again.")


def submit(db: sqlite_utils.Database, user: User, segment_id: int, choice: Choice, *,
           duration_ms: int | None = None) -> int:
    """Write all her labels for the segment (every mode, 0 or 1) and a submission, in one transaction.

    Returns the number of label rows changed. Re-submitting changed labels keeps the history in
    submissions, each with its time.
    """
    taxonomy = labelling_taxonomy(db)
    check_choice(choice, taxonomy)
    rationales = {taxonomy.mode_ids[c]: text.strip()[:RATIONALE_MAX]
                  for c, text in (choice.rationales or {}).items() if c in choice.modes and text and text.strip()}
    values = {mode_id: int(code in choice.modes) for code, mode_id in taxonomy.mode_ids.items()}
    status = "unsure" if choice.unsure else "done"
    with store.write(db):
        _check_session(db, user)
        _own_assignment(db, user, segment_id)
        changed = store.write_labels(db, store.LabelWrite(
            segment_id=segment_id, rater_id=user.rater_id, taxonomy_id=taxonomy.id, values=values,
            status=status, rationales=rationales, duration_ms=duration_ms))
        try:
            store.mark_submitted(db, user.rater_id, segment_id, status)
        except store.SegmentFullError as exc:  # raised before the transaction commits: her labels are undone
            raise AnnotateError(f"This segment went to other annotators after you skipped it ({exc}): it can no "
                                "longer take your labels.") from None
    return changed


def skip(db: sqlite_utils.Database, user: User, segment_id: int, *, duration_ms: int | None = None) -> None:
    """Record that she skipped a segment she had not labelled; her claim goes back to the queue."""
    taxonomy = labelling_taxonomy(db)
    with store.write(db):
        _check_session(db, user)
        status = _own_assignment(db, user, segment_id)
        if status in ("done", "unsure"):
            raise AnnotateError("You already labelled this segment; change your labels instead of skipping it.")
        store.write_labels(db, store.LabelWrite(segment_id=segment_id, rater_id=user.rater_id,
                                                taxonomy_id=taxonomy.id, values={}, status="skipped",
                                                duration_ms=duration_ms))
        store.mark_submitted(db, user.rater_id, segment_id, "skipped")
