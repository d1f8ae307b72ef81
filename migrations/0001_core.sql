-- The spine of twinflow's record: what ran, how each attempt ended, what it
-- produced and consumed, and what it measured. docs/ARCHITECTURE.md explains
-- each table; store/ is the only C++ that reads or writes them.

-- Every DAG file content a run was started from, so a run can be replayed
-- (rerun) exactly as it was, even after the file changed.
CREATE TABLE dag_snapshots (
  content_hash text PRIMARY KEY,
  content      text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pipelines (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  dag_file   text NOT NULL,
  dag_hash   text NOT NULL REFERENCES dag_snapshots (content_hash),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
  id               bigserial PRIMARY KEY,
  pipeline_id      bigint NOT NULL REFERENCES pipelines (id),
  dag_hash         text NOT NULL REFERENCES dag_snapshots (content_hash),
  dag_file         text NOT NULL,
  parent_run_id    bigint REFERENCES runs (id),
  trigger          text NOT NULL CHECK (trigger IN ('manual', 'rerun', 'schedule', 'event', 'api')),
  params           jsonb NOT NULL DEFAULT '{}',
  status           text NOT NULL
                   CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  cancel_requested boolean NOT NULL DEFAULT false,
  host             text,
  pid              integer,
  heartbeat_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  error            text
);
CREATE INDEX runs_by_pipeline ON runs (pipeline_id, id DESC);
CREATE INDEX runs_by_status ON runs (status, id DESC);
CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

-- One row per step of a run, created with the run: the step's current state.
-- result_step_run_id names the attempt whose outputs stand for this step: its
-- own succeeded attempt, a cached attempt, or (status 'reused') the parent
-- run's attempt that a rerun kept.
CREATE TABLE run_steps (
  run_id             bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_id            text NOT NULL,
  status             text NOT NULL
                     CHECK (status IN ('pending', 'running', 'retrying', 'succeeded', 'failed', 'cached',
                                       'reused', 'upstream_failed', 'cancelled', 'interrupted')),
  attempts           integer NOT NULL DEFAULT 0,
  result_step_run_id bigint,
  started_at         timestamptz,
  finished_at        timestamptz,
  PRIMARY KEY (run_id, step_id)
);

-- One row per attempt of a step.
CREATE TABLE step_runs (
  id           bigserial PRIMARY KEY,
  run_id       bigint NOT NULL,
  step_id      text NOT NULL,
  attempt      integer NOT NULL,
  status       text NOT NULL
               CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'cached', 'interrupted',
                                 'cancelled')),
  exit_code    integer,
  signal       integer,
  error        text,
  host         text,
  pid          integer,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz,
  finished_at  timestamptz,
  log_path     text,
  cache_key    text,
  cached_from  bigint REFERENCES step_runs (id),
  FOREIGN KEY (run_id, step_id) REFERENCES run_steps (run_id, step_id) ON DELETE CASCADE,
  UNIQUE (run_id, step_id, attempt)
);
CREATE INDEX step_runs_by_cache_key ON step_runs (cache_key, id DESC) WHERE status = 'succeeded';
CREATE INDEX step_runs_running ON step_runs (run_id) WHERE status = 'running';

ALTER TABLE run_steps ADD FOREIGN KEY (result_step_run_id) REFERENCES step_runs (id);

CREATE TABLE artifacts (
  id             bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  type           text NOT NULL,
  latest_version integer NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE artifact_versions (
  id                   bigserial PRIMARY KEY,
  artifact_id          bigint NOT NULL REFERENCES artifacts (id),
  version              integer NOT NULL,
  content_hash         text NOT NULL,
  uri                  text NOT NULL,
  size_bytes           bigint NOT NULL,
  metadata             jsonb NOT NULL DEFAULT '{}',
  producer_step_run_id bigint REFERENCES step_runs (id),
  created_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (artifact_id, version)
);
CREATE INDEX artifact_versions_by_hash ON artifact_versions (content_hash);
CREATE INDEX artifact_versions_by_producer ON artifact_versions (producer_step_run_id);

-- A step run consumed (direction 'input') or produced ('output') an artifact
-- version under a name. A cached step run gets 'output' edges to the versions
-- it reused, so every attempt's outputs are found the same way.
CREATE TABLE lineage_edges (
  step_run_id         bigint NOT NULL REFERENCES step_runs (id),
  artifact_version_id bigint NOT NULL REFERENCES artifact_versions (id),
  direction           text NOT NULL CHECK (direction IN ('input', 'output')),
  name                text NOT NULL,
  PRIMARY KEY (step_run_id, direction, name)
);
CREATE INDEX lineage_by_version ON lineage_edges (artifact_version_id, direction);

CREATE TABLE metrics (
  id          bigserial PRIMARY KEY,
  step_run_id bigint NOT NULL REFERENCES step_runs (id),
  key         text NOT NULL,
  value       double precision NOT NULL,
  step        bigint,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metrics_by_step_run ON metrics (step_run_id, key, step);
