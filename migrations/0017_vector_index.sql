-- An approximate vector index per embedding model: IVF (inverted file) over
-- spherical k-means centroids, kept in PostgreSQL, so a vector search reads
-- the centroids and the vectors of the few lists nearest to the query instead
-- of every vector of the model (tasks/search/ivf.h, store/store_vector_index.cc).
--
-- vector_indexes holds the centroids (lists × dimension float32, row-major,
-- little-endian). vector_lists holds every indexed embedding's list and a
-- copy of its unit vector as float32 bytes (read back without parsing text).
-- Embeddings written after the index was built are recorded in
-- vector_pending by a trigger, and assigned to their nearest list by the next
-- search; the build holds a SHARE lock on embeddings while it creates the
-- index row, so every embedding is either in the build's snapshot or pending.
-- Deleting a chunk deletes its embeddings and with them its list entry.

CREATE TABLE vector_indexes (
  model_id   bigint PRIMARY KEY REFERENCES embedding_models (id) ON DELETE CASCADE,
  dimension  integer NOT NULL CHECK (dimension >= 1),
  lists      integer NOT NULL CHECK (lists >= 0),  -- 0 while being built
  centroids  bytea NOT NULL,
  trained_on bigint NOT NULL DEFAULT 0,  -- embeddings the build listed
  assigned   bigint NOT NULL DEFAULT 0,  -- embeddings assigned to lists since (a
                                         -- search rebuilds when it passes trained_on)
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vector_lists (
  model_id bigint NOT NULL,
  chunk_id bigint NOT NULL,
  list     integer NOT NULL,
  vector   bytea NOT NULL,
  PRIMARY KEY (model_id, chunk_id),
  FOREIGN KEY (model_id, chunk_id) REFERENCES embeddings (model_id, chunk_id) ON DELETE CASCADE
);
CREATE INDEX vector_lists_by_list ON vector_lists (model_id, list);

CREATE TABLE vector_pending (
  model_id bigint NOT NULL,
  chunk_id bigint NOT NULL,
  PRIMARY KEY (model_id, chunk_id),
  FOREIGN KEY (model_id, chunk_id) REFERENCES embeddings (model_id, chunk_id) ON DELETE CASCADE
);

CREATE FUNCTION twinflow_vector_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vector_pending (model_id, chunk_id)
  SELECT n.model_id, n.chunk_id FROM new_rows n
   WHERE EXISTS (SELECT 1 FROM vector_indexes v WHERE v.model_id = n.model_id)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER embeddings_vector_pending AFTER INSERT ON embeddings
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_vector_pending();
