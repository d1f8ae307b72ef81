-- The chunks waiting for an embedding, per model (issue 18: a re-crawl's embed
-- step did work in proportion to the corpus, not to what changed).
--
-- The embed step found its work by walking every current chunk and looking
-- for its embedding: 5.8-10 s at 1M chunks, whether 30,000 chunks or none
-- were new. Now every current chunk without an embedding of a model name's
-- latest version waits in embedding_queue:
--   * a chunk inserted (the chunk writer's transaction) waits for the latest
--     version of every model name;
--   * a chunk current again (a chunking that gives back an earlier chunk)
--     waits if it has no embedding;
--   * a new model version (FeatureStore::register_embedding_model) makes every
--     current chunk wait for it, under a SHARE lock on chunks so that no chunk
--     written meanwhile is missed, and its name's older versions stop waiting;
--   * writing an embedding, by any writer, takes its chunk off the queue.
-- Chunks deleted or no longer current are left in the queue (no foreign key:
-- it would cost every chunk delete a lookup here); the embed step reads the
-- queue joined with the current chunks and then sweeps them out.

CREATE TABLE embedding_queue (
  model_id bigint NOT NULL REFERENCES embedding_models (id) ON DELETE CASCADE,
  chunk_id bigint NOT NULL,
  PRIMARY KEY (model_id, chunk_id)
);

-- Each model name's latest version: the one the embed step writes.
CREATE VIEW embedding_models_latest AS
SELECT DISTINCT ON (name) id FROM embedding_models ORDER BY name, version DESC;

CREATE FUNCTION twinflow_embedding_queue_chunks_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO embedding_queue (model_id, chunk_id)
  SELECT m.id, n.id FROM new_rows n, embedding_models_latest m WHERE n.is_current;
  RETURN NULL;
END
$$;
CREATE TRIGGER chunks_embedding_queue AFTER INSERT ON chunks
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_embedding_queue_chunks_inserted();

CREATE FUNCTION twinflow_embedding_queue_chunk_current() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO embedding_queue (model_id, chunk_id)
  SELECT m.id, NEW.id FROM embedding_models_latest m
   WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = m.id AND e.chunk_id = NEW.id)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER chunks_embedding_queue_current AFTER UPDATE OF is_current ON chunks
  FOR EACH ROW WHEN (NEW.is_current AND NOT OLD.is_current)
  EXECUTE FUNCTION twinflow_embedding_queue_chunk_current();

CREATE FUNCTION twinflow_embedding_queue_embedded() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM embedding_queue q USING new_rows n
   WHERE q.model_id = n.model_id AND q.chunk_id = n.chunk_id;
  RETURN NULL;
END
$$;
CREATE TRIGGER embeddings_embedding_queue AFTER INSERT ON embeddings
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_embedding_queue_embedded();

-- What waits today.
INSERT INTO embedding_queue (model_id, chunk_id)
SELECT m.id, c.id FROM embedding_models_latest m, chunks c
 WHERE c.is_current
   AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = m.id AND e.chunk_id = c.id);
