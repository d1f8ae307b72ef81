-- Idempotent dashboard actions (issue 17, item 9).
--
-- idempotency_keys: one row per Idempotency-Key a client sent with an action,
-- holding the answer it got, so that the same key within 24 hours gets the
-- same answer instead of a second action. status is NULL while the first
-- request is still being answered. fingerprint is a sha256 of the method,
-- path and body: the same key with another request is refused.
CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  status integer,
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- A run's live reruns, looked up before queueing another (Store::enqueue_rerun_once).
CREATE INDEX runs_live_reruns ON runs (parent_run_id)
  WHERE parent_run_id IS NOT NULL AND status IN ('queued', 'running');
