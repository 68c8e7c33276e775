"""The store: the only part of the project that speaks SQL.

Submodules own one concern each (connection, schema, taxonomies, traces, labels, users, gold, judge,
exports, ...); this package re-exports what services and pages use.
"""

from annotator.store import refine as refinement  # used by the refinement service only
from annotator.store.access import LOCAL_ADMIN, audit, require
from annotator.store.annotation import RaterLabels, labels_for_segment, segment_at, segment_count, submission_history
from annotator.store.audit import AUDIT_COLUMNS, iter_audit, log_action
from annotator.store.baseline import SegmentText, gold_by_segment, segment_texts, segments_to_label, write_label_batch
from annotator.store.db import (
    DatabaseFileError,
    NoDatabaseError,
    connect,
    database_error,
    default_path,
    file_path,
    now,
    open_existing,
    write,
)
from annotator.store.exports import (
    GOLD_COLUMNS,
    LABEL_COLUMNS,
    SEGMENT_COLUMNS,
    iter_gold_rows,
    iter_label_rows,
    iter_segment_rows,
    label_taxonomy_ids,
    trace_tags_by_external_id,
)
from annotator.store.facets import data_version, trace_tag_values
from annotator.store.gold import (
    PROVENANCES,
    adjudicated_cells,
    get_split,
    gold_counts,
    gold_of_segment,
    gold_segments_with_hashes,
    hashes_of_test_split,
    replace_automatic_gold,
    save_split,
    segment_labelled_by_anyone,
    set_adjudicated_gold,
    stale_gold_segments,
)
from annotator.store.judge import (
    JudgeCallWrite,
    JudgeSegment,
    cached_judgements,
    create_judge_run,
    finish_judge_run,
    get_judge_run,
    get_prompt,
    judge_evidence,
    judge_has_samples,
    judge_run_errors,
    judge_run_latencies,
    judge_run_served_models,
    judge_sample_labels,
    judge_segments_by_id,
    list_judge_runs,
    rater_served_models,
    record_judge_call,
    save_prompt,
    select_judge_segments,
    start_judge_run,
    whole_trace_segments,
)
from annotator.store.judge_batches import (
    BatchItemWrite,
    batched_runs,
    create_judge_batch,
    finish_judge_batch,
    judge_batch_items,
    keys_in_open_batches,
    open_judge_batches,
    record_batch_answer,
    run_judge_batches,
    update_judge_batch,
)
from annotator.store.labels import (
    LabelWrite,
    RaterRow,
    ensure_rater,
    get_rater,
    list_raters,
    rater_name,
    write_labels,
)
from annotator.store.leases import claim_holders, release_claims, release_expired
from annotator.store.localisations import (
    Answer,
    Failure,
    LocalisationCall,
    cached_localisation,
    delete_answer,
    load_answers,
    localisation_call_errors,
    localised_trace_ids,
    record_localisation_call,
    traces_with_tags,
    traces_with_turns,
    turn_speakers,
    write_answer,
)
from annotator.store.queue import (
    MAX_LEASE_MINUTES,
    REVEAL_NAMES,
    ListPosition,
    Progress,
    QueueSettings,
    SegmentFullError,
    assign_to_pool,
    assignment_status,
    claim,
    claimable_count,
    get_settings,
    list_position,
    mark_submitted,
    pending_segment,
    pool_rater_ids,
    queue_summary,
    rater_progress,
    save_settings,
    segment_full,
    team_progress,
)
from annotator.store.queue_order import (
    get_strategy,
    hand_out_order,
    queued_with_room,
    ranked_segment_ids,
    set_queue_order,
)
from annotator.store.sessions import session_user
from annotator.store.stats import database_stats
from annotator.store.taxonomies import (
    StoredTaxonomy,
    StoreError,
    TaxonomySummary,
    get_mapping,
    get_mapping_rows,
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
    latest_trace_id,
    record_import,
    segments_of_trace,
    trace_segment_id,
    trace_text,
)
from annotator.store.users import ROLES, User, add_user, hash_token, list_users, reset_token, user_for_token

# Loaded on first use: they need numpy, which `annotator stats` and `--help` should not pay for.
_LAZY = {"GOLD_RATER": "annotator.store.labelsets", "load_label_set": "annotator.store.labelsets",
         "traces_formats": "annotator.store.labelsets"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'annotator.store' has no attribute {name!r}")
