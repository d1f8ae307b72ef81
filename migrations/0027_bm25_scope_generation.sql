-- A version stamp on each BM25 scope, so that a long-lived searcher (twinflow
-- serve) can keep the postings it read between searches (issue 15: a served
-- top-10 at 100k chunks spent most of its time reading the same postings from
-- the database again for every query).
--
-- Every write that changes a scope's postings also updates its bm25_scopes
-- row (its chunk count and lengths: twinflow_bm25_add, twinflow_bm25_remove,
-- the chunk writer's batch, the truncate trigger). A row trigger gives the row
-- a new generation on every update, whoever the writer; the generations come
-- from a sequence no TRUNCATE ... RESTART IDENTITY resets, so a scope's (id,
-- generation) pair never comes back. Compaction (bm25_compaction.cc) rewrites
-- blocks without changing what a search reads from them, and keeps the stamp.

CREATE SEQUENCE bm25_scope_generations;

ALTER TABLE bm25_scopes
  ADD COLUMN generation bigint NOT NULL DEFAULT nextval('bm25_scope_generations');

CREATE FUNCTION twinflow_bm25_scope_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.generation := nextval('bm25_scope_generations');
  RETURN NEW;
END
$$;

CREATE TRIGGER bm25_scopes_generation BEFORE UPDATE ON bm25_scopes
  FOR EACH ROW EXECUTE FUNCTION twinflow_bm25_scope_changed();
