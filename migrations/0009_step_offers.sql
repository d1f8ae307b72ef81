-- Steps one scheduler offers to every scheduler (scheduler/step_sharing.h).
--
-- The scheduler that executes a run (its owner) starts ready steps itself
-- while it has free job slots; the ready steps it has no slot for are offered
-- here, one row per attempt. Any scheduler with a free slot, the owner
-- included, claims an offer with SELECT ... FOR UPDATE SKIP LOCKED, so two
-- never claim the same one, then records the attempt (step_runs) and runs it.
--
-- claimed_by: "host:pid" of the claiming scheduler; heartbeat_at: refreshed
-- by it while the attempt runs. The owner watches the offers others claimed:
-- an ended attempt is recorded in step_runs by the claimer, and the owner
-- then marks the offer settled. A claim whose heartbeat went stale is revoked
-- by the owner (the claimer's later writes are refused: only a running
-- attempt of an unrevoked claim can be recorded) and the step is retried.
-- cancel_requested: the owner cancels the run; the claimer stops the step.
-- store/store_offers.cc is the only C++ that reads or writes this table.

CREATE TABLE step_offers (
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_id text NOT NULL,
  attempt int NOT NULL CHECK (attempt > 0),
  interruptions int NOT NULL DEFAULT 0,
  executor text NOT NULL,
  cache_key text NOT NULL DEFAULT '',
  input_names text[] NOT NULL,
  input_version_ids bigint[] NOT NULL,
  offered_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  claimed_by text,
  claimed_at timestamptz,
  heartbeat_at timestamptz,
  step_run_id bigint REFERENCES step_runs (id),
  settled boolean NOT NULL DEFAULT false,
  revoked boolean NOT NULL DEFAULT false,
  cancel_requested boolean NOT NULL DEFAULT false,
  PRIMARY KEY (run_id, step_id, attempt),
  CHECK (cardinality(input_names) = cardinality(input_version_ids))
);

-- What a scheduler looking for work scans: open offers, oldest first.
CREATE INDEX step_offers_open ON step_offers (offered_at) WHERE claimed_by IS NULL AND NOT revoked;
-- What an owner watches: the unsettled offers of its run.
CREATE INDEX step_offers_unsettled ON step_offers (run_id) WHERE NOT settled;
