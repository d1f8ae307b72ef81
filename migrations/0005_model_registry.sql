-- The model registry and the RAG server's prompt log.
--
-- A model is a name ("llm_twin"); its versions are artifact versions (a model
-- directory in the blob store) made by a finetune attempt, registered by the
-- evaluate step with the metrics it measured. A version has one stage at a time;
-- every change is kept in model_stage_changes with the evaluation that decided
-- it. store/store_models.cc is the only C++ that reads or writes these tables.

CREATE TABLE models (
  id             bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE CHECK (name <> ''),
  latest_version integer NOT NULL DEFAULT 0,  -- the row is locked to number versions
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_versions (
  id                  bigserial PRIMARY KEY,
  model_id            bigint NOT NULL REFERENCES models (id),
  version             integer NOT NULL CHECK (version >= 1),
  artifact_version_id bigint NOT NULL REFERENCES artifact_versions (id),
  step_run_id         bigint REFERENCES step_runs (id),  -- the attempt that registered it
  stage               text NOT NULL DEFAULT 'none'
                        CHECK (stage IN ('none', 'staging', 'production', 'archived')),
  metrics             jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (model_id, version),
  UNIQUE (model_id, artifact_version_id)  -- one artifact is registered once
);
-- At most one production version per model: promotion archives the old one in
-- the same transaction, and the database refuses anything else.
CREATE UNIQUE INDEX model_versions_one_production ON model_versions (model_id)
  WHERE stage = 'production';

CREATE TABLE model_stage_changes (
  id               bigserial PRIMARY KEY,
  model_version_id bigint NOT NULL REFERENCES model_versions (id),
  from_stage       text NOT NULL,
  to_stage         text NOT NULL,
  reason           text NOT NULL DEFAULT '',
  actor            text NOT NULL DEFAULT '',     -- "cli", "deploy step", "dashboard"
  step_run_id      bigint REFERENCES step_runs (id),
  evaluation       jsonb NOT NULL DEFAULT '{}',  -- the gate's decision and figures, when a step decided
  changed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_stage_changes_version ON model_stage_changes (model_version_id, id);

-- One row per request to the RAG server's POST /rag.
CREATE TABLE prompt_logs (
  id               bigserial PRIMARY KEY,
  created_at       timestamptz NOT NULL DEFAULT now(),
  query            text NOT NULL,
  author           text NOT NULL DEFAULT '',
  k                integer NOT NULL,
  chunk_ids        bigint[] NOT NULL DEFAULT '{}',  -- retrieved, best first
  prompt           text NOT NULL DEFAULT '',
  answer           text NOT NULL DEFAULT '',
  model_name       text NOT NULL DEFAULT '',
  model_version_id bigint REFERENCES model_versions (id),
  generator        text NOT NULL DEFAULT '',  -- builtin, openai
  status           integer NOT NULL,          -- the HTTP status answered
  error            text NOT NULL DEFAULT '',
  retrieval_ms     double precision NOT NULL DEFAULT 0,
  generation_ms    double precision NOT NULL DEFAULT 0,
  latency_ms       double precision NOT NULL DEFAULT 0
);
CREATE INDEX prompt_logs_created ON prompt_logs (id DESC);
