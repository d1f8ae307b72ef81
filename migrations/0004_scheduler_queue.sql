-- The scheduler daemon's state: queued runs, schedule ticks, pauses, and the
-- outbox of data events that start triggered DAGs.
--
-- Runs waiting for a scheduler are ordinary runs in status 'queued' (their
-- step rows exist, pending); a scheduler claims one with FOR UPDATE SKIP
-- LOCKED, so several schedulers on one database never start the same run.

-- The schedule tick a run was started for (trigger 'schedule'), and the event
-- that started it (trigger 'event').
ALTER TABLE runs ADD COLUMN logical_time timestamptz;
ALTER TABLE runs ADD COLUMN event_id bigint;
-- One run per pipeline and tick, whichever scheduler fires it first.
CREATE UNIQUE INDEX runs_one_per_tick ON runs (pipeline_id, logical_time)
  WHERE logical_time IS NOT NULL;
CREATE INDEX runs_queued ON runs (id) WHERE status = 'queued';

-- Paused pipelines (by DAG name): their schedules and triggers start nothing.
CREATE TABLE pipeline_pauses (
  pipeline  text PRIMARY KEY,
  paused_at timestamptz NOT NULL DEFAULT now()
);

-- Change data capture: a row per new artifact version and per new document
-- (version), written by triggers in the very transaction that commits the
-- data, so an event exists exactly when its data does. NOTIFY wakes listening
-- schedulers; they also poll, so a lost notification only delays.
CREATE TABLE outbox_events (
  id                  bigserial PRIMARY KEY,
  kind                text NOT NULL CHECK (kind IN ('artifact_version', 'document')),
  artifact            text,    -- artifact_version: the artifact's name
  artifact_version_id bigint,  -- artifact_version
  version             integer, -- artifact_version: its number; document: the document's version
  document_id         bigint,  -- document
  platform            text,    -- document
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_events_by_artifact ON outbox_events (artifact, id) WHERE kind = 'artifact_version';
CREATE INDEX outbox_events_documents ON outbox_events (id) WHERE kind = 'document';

-- Which pipeline consumed which event (and the run it started): the primary
-- key makes consumption exactly-once per pipeline, whatever the number of
-- schedulers or retries.
CREATE TABLE event_consumptions (
  event_id    bigint NOT NULL REFERENCES outbox_events (id),
  pipeline    text NOT NULL,
  run_id      bigint REFERENCES runs (id),
  consumed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, event_id)
);

CREATE FUNCTION twinflow_outbox_artifact_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (kind, artifact, artifact_version_id, version)
  SELECT 'artifact_version', a.name, NEW.id, NEW.version FROM artifacts a WHERE a.id = NEW.artifact_id;
  PERFORM pg_notify('twinflow_events', 'artifact_version');
  RETURN NEW;
END $$;
CREATE TRIGGER artifact_versions_outbox AFTER INSERT ON artifact_versions
  FOR EACH ROW EXECUTE FUNCTION twinflow_outbox_artifact_version();

CREATE FUNCTION twinflow_outbox_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox_events (kind, document_id, version, platform)
  VALUES ('document', NEW.id, NEW.version, NEW.platform);
  PERFORM pg_notify('twinflow_events', 'document');  -- one per transaction: NOTIFY folds repeats
  RETURN NEW;
END $$;
CREATE TRIGGER documents_outbox AFTER INSERT ON documents
  FOR EACH ROW EXECUTE FUNCTION twinflow_outbox_document();

-- Live schedulers, for `twinflow schedulers`-style views and for noticing a dead one.
CREATE TABLE schedulers (
  id           bigserial PRIMARY KEY,
  host         text NOT NULL,
  pid          integer NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at   timestamptz
);
