"""SQL of migration m007_localisations (schema.py): the raters table with kind 'reference', localisation labels."""

RATERS_WITH_REFERENCE = """
    CREATE TABLE raters_new (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('human', 'judge', 'gold', 'reference')),
        model TEXT,
        prompt_version TEXT,
        params TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
    );
    INSERT INTO raters_new (id, name, kind, model, prompt_version, params, created_at)
        SELECT id, name, kind, model, prompt_version, params, created_at FROM raters;
    DROP TABLE raters;
    ALTER TABLE raters_new RENAME TO raters;
"""

LOCALISATION_TABLES = """
    -- One answer per (trace, rater): where the decisive error is ('localised', with rows in
    -- localisations) or that there is none ('no_error'). No row: the rater has not answered.
    CREATE TABLE IF NOT EXISTS localisation_answers (
        trace_id INTEGER NOT NULL REFERENCES traces(id),
        rater_id INTEGER NOT NULL REFERENCES raters(id),
        status TEXT NOT NULL CHECK (status IN ('localised', 'no_error')),
        note TEXT,
        provenance TEXT CHECK (provenance IN ('imported', 'adjudicated')),
        source TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (trace_id, rater_id)
    );
    CREATE INDEX IF NOT EXISTS idx_localisation_answers_rater ON localisation_answers (rater_id, trace_id);
    -- The failures of a 'localised' answer: step is the index of the turn (segment idx under the
    -- 'turn' scheme), agent who made the error. Exactly one of a rater's failures is the root cause.
    CREATE TABLE IF NOT EXISTS localisations (
        trace_id INTEGER NOT NULL,
        rater_id INTEGER NOT NULL,
        position INTEGER NOT NULL,
        step INTEGER NOT NULL CHECK (step >= 0),
        agent TEXT NOT NULL,
        mode TEXT,
        note TEXT,
        is_root_cause INTEGER NOT NULL CHECK (is_root_cause IN (0, 1)),
        PRIMARY KEY (trace_id, rater_id, position),
        FOREIGN KEY (trace_id, rater_id) REFERENCES localisation_answers (trace_id, rater_id) ON DELETE CASCADE
    );
"""

LOCALISATION_CALLS = """
    -- The localising judge's calls, one per (judge rater, trace): the cache that makes a rerun of an
    -- unchanged (model, prompt version, trace, parameters) free, and the record of its errors.
    CREATE TABLE IF NOT EXISTS localisation_calls (
        id INTEGER PRIMARY KEY,
        rater_id INTEGER NOT NULL REFERENCES raters(id),
        trace_id INTEGER NOT NULL REFERENCES traces(id),
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
        created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS idx_localisation_calls_key ON localisation_calls (cache_key);
"""
