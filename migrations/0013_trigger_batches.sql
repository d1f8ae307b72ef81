-- Trigger batches: a triggered run consumes every event that waited for it
-- (scheduler/trigger_policy.h), recorded in event_consumptions.run_id; the
-- run's page and `twinflow show RUN` list them by run.
CREATE INDEX event_consumptions_by_run ON event_consumptions (run_id) WHERE run_id IS NOT NULL;

-- Lineage through the feature store (store/lineage_queries.cc): a URL's
-- versions, and a chunk's embeddings (the primary key leads with the model).
CREATE INDEX documents_by_url ON documents (url);
CREATE INDEX embeddings_by_chunk ON embeddings (chunk_id);
