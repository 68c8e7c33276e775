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
from annotator.store.judge import (  # noqa: E402
    JudgeCallWrite,
    JudgeSegment,
    cached_judgements,
    create_judge_run,
    finish_judge_run,
    get_judge_run,
    judge_run_errors,
    judge_run_latencies,
    judge_sample_labels,
    judge_segments_by_id,
    list_judge_runs,
    record_judge_call,
    select_judge_segments,
    start_judge_run,
    whole_trace_segments,
)
