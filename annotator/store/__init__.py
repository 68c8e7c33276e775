"""The store: the only part of the project that speaks SQL.

Submodules own one concern each (connection, schema, taxonomies, traces, labels, stats, ...);
this package re-exports what services and pages use.
"""

from annotator.store.db import connect, default_path, now, write
from annotator.store.labels import (
    LabelWrite,
    RaterRow,
    ensure_rater,
    get_rater,
    list_raters,
    write_labels,
)
from annotator.store.stats import database_stats
from annotator.store.taxonomies import (
    StoredTaxonomy,
    StoreError,
    TaxonomySummary,
    get_mapping,
    get_taxonomy,
    get_taxonomy_by_id,
    list_taxonomies,
    save_mapping,
    save_taxonomy,
    taxonomy_exists,
)
from annotator.store.traces import (
    SegmentInput,
    SegmentRow,
    TraceInput,
    TraceRow,
    content_hash,
    get_segment,
    get_trace,
    insert_trace,
    iter_segments,
    record_import,
    segments_of_trace,
    trace_segment_id,
    trace_text,
)

__all__ = [name for name in dir() if not name.startswith("_")]

from annotator.store.users import ROLES, User, add_user, list_users, reset_token, user_for_token  # noqa: E402
from annotator.store.users import hash_token  # noqa: E402
from annotator.store.queue import (  # noqa: E402
    ListPosition,
    Progress,
    QueueSettings,
    assign_to_pool,
    assignment_status,
    claim,
    get_settings,
    list_position,
    mark_submitted,
    pending_segment,
    pool_rater_ids,
    queue_summary,
    rater_progress,
    save_settings,
    team_progress,
)
from annotator.store.annotation import RaterLabels, labels_for_segment, segment_at, submission_history  # noqa: E402
from annotator.store.sessions import session_user  # noqa: E402
from annotator.store.facets import data_version, trace_tag_values  # noqa: E402
