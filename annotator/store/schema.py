"""Schema and migrations (sqlite-utils Migrations). Add a new migration; never edit an applied one."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from annotator.store.schema_m007 import LOCALISATION_CALLS, LOCALISATION_TABLES, RATERS_WITH_REFERENCE

migrations = Migrations("annotator")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Taxonomies, traces and segments, raters, labels and submissions, assignments, users."""
    db.executescript(
        """
        CREATE TABLE taxonomies (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            is_draft INTEGER NOT NULL DEFAULT 0,
            parent_id INTEGER REFERENCES taxonomies(id),
            created_at TEXT NOT NULL,
            UNIQUE (name, version)
        );
        CREATE TABLE modes (
            id INTEGER PRIMARY KEY,
            taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            category TEXT NOT NULL,
            definition TEXT NOT NULL,
            aliases TEXT NOT NULL DEFAULT '[]',
            note TEXT NOT NULL DEFAULT '',
            position INTEGER NOT NULL,
            UNIQUE (taxonomy_id, code)
        );
        CREATE TABLE mode_mappings (
            id INTEGER PRIMARY KEY,
            source_taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            target_taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            source_code TEXT NOT NULL,
            target_code TEXT,
            kind TEXT NOT NULL DEFAULT 'same'
        );
        -- NULL target (a dropped mode) must dedupe too; a plain UNIQUE treats NULLs as distinct.
        CREATE UNIQUE INDEX idx_mode_mappings_unique ON mode_mappings
            (source_taxonomy_id, target_taxonomy_id, source_code, IFNULL(target_code, ''));
        CREATE TABLE traces (
            id INTEGER PRIMARY KEY,
            external_id TEXT NOT NULL,
            source TEXT NOT NULL,
            format TEXT NOT NULL,
            framework TEXT,
            benchmark TEXT,
            llm TEXT,
            content_hash TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (external_id, content_hash)
        );
        CREATE TABLE trace_tags (
            trace_id INTEGER NOT NULL REFERENCES traces(id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (trace_id, key)
        );
        CREATE INDEX idx_trace_tags_kv ON trace_tags (key, value);
        CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            trace_id INTEGER NOT NULL REFERENCES traces(id),
            scheme TEXT NOT NULL,
            idx INTEGER NOT NULL,
            kind TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            speaker TEXT,
            content_hash TEXT NOT NULL,
            queued INTEGER NOT NULL DEFAULT 1,
            UNIQUE (trace_id, scheme, idx)
        );
        CREATE INDEX idx_segments_queue ON segments (queued, id);
        CREATE INDEX idx_segments_hash ON segments (content_hash);
        CREATE TABLE raters (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('human', 'judge', 'gold')),
            model TEXT,
            prompt_version TEXT,
            params TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            segment_id INTEGER NOT NULL REFERENCES segments(id),
            rater_id INTEGER NOT NULL REFERENCES raters(id),
            taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            status TEXT NOT NULL CHECK (status IN ('done', 'skipped', 'unsure')),
            labels TEXT NOT NULL DEFAULT '{}',
            duration_ms INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_submissions_rater ON submissions (rater_id, taxonomy_id, segment_id, id);
        CREATE INDEX idx_submissions_segment ON submissions (segment_id, taxonomy_id);
        CREATE TABLE labels (
            segment_id INTEGER NOT NULL REFERENCES segments(id),
            rater_id INTEGER NOT NULL REFERENCES raters(id),
            mode_id INTEGER NOT NULL REFERENCES modes(id),
            taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            sample INTEGER NOT NULL DEFAULT 0,
            value INTEGER NOT NULL CHECK (value IN (0, 1)),
            rationale TEXT,
            evidence TEXT,
            stale INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (segment_id, rater_id, mode_id, sample)
        );
        -- (taxonomy, rater, segment): serves both the loader's scan of a taxonomy and write_labels'
        -- lookup of one rater's labels on one segment (with only (taxonomy, rater), SQLite chose it
        -- for that lookup and scanned every label of the rater: quadratic over an import or a run).
        CREATE INDEX idx_labels_taxonomy ON labels (taxonomy_id, rater_id, segment_id);
        CREATE TABLE assignments (
            segment_id INTEGER NOT NULL REFERENCES segments(id),
            rater_id INTEGER NOT NULL REFERENCES raters(id),
            assigned_at TEXT NOT NULL,
            PRIMARY KEY (segment_id, rater_id)
        );
        CREATE INDEX idx_assignments_rater ON assignments (rater_id, segment_id);
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('annotator', 'reviewer', 'admin')),
            token_hash TEXT NOT NULL UNIQUE,
            rater_id INTEGER NOT NULL REFERENCES raters(id),
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            format TEXT NOT NULL,
            scheme TEXT NOT NULL,
            traces_added INTEGER NOT NULL,
            labels_added INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m002_judge_and_gold(db: sqlite_utils.Database) -> None:
    """Judge runs and calls (the call cache), gold labels and their dev/test split."""
    db.executescript(
        """
        CREATE TABLE judge_runs (
            id INTEGER PRIMARY KEY,
            rater_id INTEGER NOT NULL REFERENCES raters(id),
            taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            model TEXT NOT NULL,
            prompt_path TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            selection TEXT NOT NULL DEFAULT 'all',
            status TEXT NOT NULL DEFAULT 'running',
            started_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE TABLE judge_calls (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES judge_runs(id),
            segment_id INTEGER NOT NULL REFERENCES segments(id),
            sample INTEGER NOT NULL DEFAULT 0,
            cache_key TEXT NOT NULL,
            request TEXT,
            raw_response TEXT,
            parsed TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 1,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cost REAL,
            latency_ms REAL,
            truncated INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_judge_calls_key ON judge_calls (cache_key);
        CREATE INDEX idx_judge_calls_run ON judge_calls (run_id, segment_id);
        CREATE TABLE gold (
            segment_id INTEGER NOT NULL REFERENCES segments(id),
            mode_id INTEGER NOT NULL REFERENCES modes(id),
            taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            value INTEGER NOT NULL CHECK (value IN (0, 1)),
            provenance TEXT NOT NULL CHECK (provenance IN ('unanimous', 'majority', 'adjudicated')),
            adjudicator TEXT,
            note TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (segment_id, mode_id)
        );
        CREATE INDEX idx_gold_taxonomy ON gold (taxonomy_id);
        CREATE TABLE gold_splits (
            segment_id INTEGER NOT NULL REFERENCES segments(id),
            taxonomy_id INTEGER NOT NULL REFERENCES taxonomies(id),
            split TEXT NOT NULL CHECK (split IN ('dev', 'test')),
            seed INTEGER NOT NULL,
            PRIMARY KEY (segment_id, taxonomy_id)
        );
        """
    )


@migrations()
def m003_judge_progress(db: sqlite_utils.Database) -> None:
    """What a judge run needs to be watched and resumed: its size, cache hits, owner process, errors."""
    db.executescript(
        """
        ALTER TABLE judge_runs ADD COLUMN total INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE judge_runs ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE judge_runs ADD COLUMN pid INTEGER;
        ALTER TABLE judge_runs ADD COLUMN updated_at TEXT;
        ALTER TABLE judge_runs ADD COLUMN error TEXT;
        ALTER TABLE judge_calls ADD COLUMN attempt_errors TEXT NOT NULL DEFAULT '[]';
        """
    )


@migrations()
def m004_prompts(db: sqlite_utils.Database) -> None:
    """The text of every prompt version a run used, so versions can be compared after the file changed."""
    db.executescript(
        """
        CREATE TABLE prompts (
            version TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m005_app_queue(db: sqlite_utils.Database) -> None:
    """The annotation queue: per-segment claim counter and per-assignment status.

    `segments.assigned` counts the active claims on a segment (skipped ones release theirs), so finding
    a segment with room for one more annotator is an index range scan on (queued, assigned, id) instead
    of a count over assignments. `assignments.status` mirrors the rater's latest submission for it, so
    "her next pending segment" is one index lookup.
    """
    db.executescript(
        """
        ALTER TABLE segments ADD COLUMN assigned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE assignments ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'done', 'skipped', 'unsure'));
        UPDATE assignments SET status = COALESCE((
            SELECT s.status FROM submissions s
            WHERE s.segment_id = assignments.segment_id AND s.rater_id = assignments.rater_id
            ORDER BY s.id DESC LIMIT 1), 'pending');
        UPDATE segments SET assigned = (
            SELECT COUNT(*) FROM assignments a WHERE a.segment_id = segments.id AND a.status != 'skipped');
        CREATE INDEX idx_segments_claim ON segments (queued, assigned, id);
        CREATE INDEX idx_assignments_todo ON assignments (rater_id, status, assigned_at, segment_id);
        CREATE INDEX idx_assignments_order ON assignments (rater_id, assigned_at, segment_id);
        """
    )


@migrations()
def m006_turn_details(db: sqlite_utils.Database) -> None:
    """Who a turn was addressed to, and what a structured trace format knew about it.

    ``recipient`` is the addressee where the format names one (Who&When's "Orchestrator (-> WebSurfer)",
    handoffs, messages between agents). ``meta`` is a JSON object of text values (span and parent ids,
    start and end times, the kind of turn) that readers may show but the statistics never read.
    """
    db.executescript(
        """
        ALTER TABLE segments ADD COLUMN recipient TEXT;
        ALTER TABLE segments ADD COLUMN meta TEXT;
        """
    )


def _run_script(conn, script: str) -> None:
    """Statement by statement: sqlite3's executescript would COMMIT the open transaction first."""
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement)


@migrations(transactional=False)
def m007_localisations(db: sqlite_utils.Database) -> None:
    """Localisation labels (which agent made the decisive error, at which turn) and a rater kind 'reference'.

    A 'reference' rater holds a public dataset's own labels (Who&When, AgentRx): compared like anyone
    else, never averaged with the people, and gold only when promoted. SQLite cannot change a CHECK in
    place, so the raters table is rebuilt; that needs foreign keys off, which only works outside a
    transaction, hence transactional=False with its own transaction here. Every step is idempotent
    (a crash between the commit and sqlite-utils' record of the migration just runs it again).
    """
    conn = db.conn
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            raters_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'raters'").fetchone()[0]
            if "'reference'" not in raters_sql:
                _run_script(conn, RATERS_WITH_REFERENCE)
            _run_script(conn, LOCALISATION_TABLES + LOCALISATION_CALLS)
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"m007_localisations: foreign keys broken by the rebuild: {problems[:3]}")
        except BaseException:
            conn.rollback()
            raise
        conn.execute("COMMIT")
    finally:
        conn.execute("PRAGMA foreign_keys=ON")


@migrations()
def m008_span_staging(db: sqlite_utils.Database) -> None:
    """Spans received by `annotator collect`, kept until their trace is complete and assembled.

    A span is written here before the sender is told 200, so an acknowledged span survives a kill.
    ``staged_traces`` says where each trace is: open (spans still coming), assembled (``trace_id`` is the
    trace it became), skipped (no LLM, agent or tool span), failed (``error`` says why).
    """
    db.executescript(
        """
        CREATE TABLE staged_spans (
            trace_key TEXT NOT NULL,
            span_id TEXT NOT NULL,
            item TEXT NOT NULL,
            received_at REAL NOT NULL,
            PRIMARY KEY (trace_key, span_id)
        );
        CREATE TABLE staged_traces (
            trace_key TEXT PRIMARY KEY,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL,
            root_ended INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'open',
            late_spans INTEGER NOT NULL DEFAULT 0,
            trace_id INTEGER REFERENCES traces(id),
            error TEXT
        );
        CREATE INDEX staged_traces_state ON staged_traces (state, last_seen);
        """
    )


@migrations()
def m009_hardening(db: sqlite_utils.Database) -> None:
    """The audit log: who changed gold, taxonomies, settings and users, what, and when.

    ``actor`` is the user's name, or "local admin (CLI)" for the command line; ``detail`` is a JSON object.
    Rows are only ever added. (Claim leases need no schema: a setting and the existing assignment times.)
    """
    db.executescript(
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX idx_audit_log_at ON audit_log (at);
        """
    )



@migrations()
def m010_judge_batches(db: sqlite_utils.Database) -> None:
    """Judge runs sent through a provider's batch API: the batch (its provider id, state and file ids, so a
    restarted run picks it up instead of submitting again) and which segment-sample each request line is."""
    db.executescript(
        """
        CREATE TABLE judge_batches (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES judge_runs(id),
            provider TEXT NOT NULL,
            batch_id TEXT,
            input_file_id TEXT,
            output_file_id TEXT,
            error_file_id TEXT,
            status TEXT NOT NULL DEFAULT 'preparing',
            requests INTEGER NOT NULL DEFAULT 0,
            provider_completed INTEGER,
            provider_failed INTEGER,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            stored_at TEXT
        );
        CREATE INDEX idx_judge_batches_run ON judge_batches (run_id);
        CREATE TABLE judge_batch_items (
            batch_id INTEGER NOT NULL REFERENCES judge_batches(id),
            custom_id TEXT NOT NULL,
            segment_id INTEGER NOT NULL REFERENCES segments(id),
            sample INTEGER NOT NULL,
            cache_key TEXT NOT NULL,
            truncated INTEGER NOT NULL DEFAULT 0,
            request TEXT NOT NULL,
            call_id INTEGER REFERENCES judge_calls(id),
            PRIMARY KEY (batch_id, custom_id)
        );
        CREATE INDEX idx_judge_batch_items_key ON judge_batch_items (cache_key);
        """
    )


@migrations()
def m011_judge_served_model(db: sqlite_utils.Database) -> None:
    """The model that answered each judge call, as the server named it (the response's `model` field).

    Behind a LiteLLM proxy the requested name is an alias, and the proxy may route it to a fallback model:
    this is the only record of which model a label came from. Null where the server did not say, and for
    calls made before this migration.
    """
    db.executescript(
        """
        ALTER TABLE judge_calls ADD COLUMN served_model TEXT;
        """
    )


@migrations()
def m012_queue_strategy(db: sqlite_utils.Database) -> None:
    """A hand-out rank per segment, so a queue strategy can put some segments first.

    ``queue_rank`` 0 is the existing order (by id); the judge-uncertain strategy gives the segments where
    the judge is unsure a negative rank (minus the count of modes it is unsure of), so they come first
    within a claim level. The claim index gains the rank between the level and the id, so a claim stays
    one index range scan.
    """
    db.executescript(
        """
        ALTER TABLE segments ADD COLUMN queue_rank INTEGER NOT NULL DEFAULT 0;
        DROP INDEX idx_segments_claim;
        CREATE INDEX idx_segments_claim ON segments (queued, assigned, queue_rank, id);
        """
    )


def known_migrations() -> list[str]:
    """The migrations this version of the tool knows, in order: their count is the schema version."""
    return [m.name for m in migrations._migrations]


def foreign_database_problem(db: sqlite_utils.Database) -> str | None:
    """Why this database is not ours to write (another application's, or a newer annotator's), else None.

    An empty database (no tables) is ours to set up. One with tables but no record of annotator's migrations
    belongs to someone else: writing our tables into it could collide with theirs halfway through. One whose
    migrations include names this version does not know was made by a newer version, whose schema we would
    misread or damage.
    """
    tables = _tables(db)
    if not tables:
        return None
    applied = applied_migrations(db) if migrations.migrations_table in tables else []
    if not applied:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        return (f"not an annotator database (it holds another application's tables: {shown}); nothing was "
                "changed; give --db a new file or one annotator made")
    unknown = [name for name in applied if name not in known_migrations()]
    if unknown:
        needed = len(known_migrations()) + len(unknown)
        return (f"made by a newer annotator (schema version {needed}, this one knows {len(known_migrations())}: "
                f"migration {unknown[0]} is new to it); upgrade annotator (pip install -U mast-annotator) to use it; "
                "nothing was changed")
    return None


def has_tables(db: sqlite_utils.Database) -> bool:
    """Whether the file holds any table: one without is empty, for init to set up."""
    return bool(_tables(db))


def _tables(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def apply_migrations(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; each migration runs in its own transaction."""
    migrations.apply(db)


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]
