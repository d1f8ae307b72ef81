-- A change count of the feature store's searchable rows, so that a server can
-- ask cheaply whether the vectors it holds are still what a search would read
-- (issue 15: FeatureStore::vectors_signature counted the rows of embeddings,
-- chunks and documents, 0.3-0.7 s at 1M chunks, paid by one request every
-- recheck interval).
--
-- Every transaction that inserts, deletes or truncates rows of embeddings,
-- chunks or documents, or changes what a search filters on (a chunk's
-- is_current or kind, a document's is_latest, author or platform, a vector),
-- leaves one row here, keyed by its transaction id. Rows are only added, so the
-- number of rows a snapshot sees grows with every such commit, whatever order
-- the transactions began in: a reader that counted before a commit counts more
-- after it. (A sequence value would not do: a transaction that took its value
-- first may commit last, after a reader has recorded the larger one.)
-- FeatureStore::refresh_feature_statistics moves the rows into
-- feature_changes_compacted's count, in one statement, so the sum stays.

CREATE TABLE feature_changes (xid xid8 PRIMARY KEY);

CREATE TABLE feature_changes_compacted (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  changes bigint NOT NULL
);
INSERT INTO feature_changes_compacted (changes) VALUES (0);

CREATE FUNCTION twinflow_feature_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO feature_changes (xid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

-- For statement triggers with a transition table named `changed`: a statement
-- that touched no row changes nothing (a crawl that found nothing new).
CREATE FUNCTION twinflow_feature_rows_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed) THEN
    INSERT INTO feature_changes (xid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

-- Inserts, deletes and truncates, alike on the three tables.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['embeddings', 'chunks', 'documents'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed '
                   'FOR EACH STATEMENT EXECUTE FUNCTION twinflow_feature_rows_changed()',
                   t || '_changed_insert', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed '
                   'FOR EACH STATEMENT EXECUTE FUNCTION twinflow_feature_rows_changed()',
                   t || '_changed_delete', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION twinflow_feature_changed()',
                   t || '_changed_truncate', t);
  END LOOP;
END
$$;

-- Updates, of what a search reads or filters on only (a re-check of an
-- unchanged page sets documents.checked_at and changes nothing here).
CREATE TRIGGER embeddings_changed_update AFTER UPDATE ON embeddings
  FOR EACH ROW WHEN (OLD.vector IS DISTINCT FROM NEW.vector
                     OR OLD.chunk_id IS DISTINCT FROM NEW.chunk_id
                     OR OLD.model_id IS DISTINCT FROM NEW.model_id)
  EXECUTE FUNCTION twinflow_feature_changed();
CREATE TRIGGER chunks_changed_update AFTER UPDATE ON chunks
  FOR EACH ROW WHEN (OLD.is_current IS DISTINCT FROM NEW.is_current
                     OR OLD.kind IS DISTINCT FROM NEW.kind
                     OR OLD.document_id IS DISTINCT FROM NEW.document_id)
  EXECUTE FUNCTION twinflow_feature_changed();
CREATE TRIGGER documents_changed_update AFTER UPDATE ON documents
  FOR EACH ROW WHEN (OLD.is_latest IS DISTINCT FROM NEW.is_latest
                     OR OLD.author IS DISTINCT FROM NEW.author
                     OR OLD.platform IS DISTINCT FROM NEW.platform)
  EXECUTE FUNCTION twinflow_feature_changed();
