-- Okapi BM25 statistics of the searchable chunks, kept exact by triggers.
--
-- Text search ranks chunks by BM25F (store/store_search.cc): per query lexeme
-- an inverse document frequency over the chunks in the search's scope, and the
-- chunk's term frequencies in two fields, its body (chunks.tsv) and its
-- document's title, each normalised by the field's length against the scope's
-- average. What that needs is kept here: per scope (author, platform, chunk
-- kind: the filters a search has) the number of chunks and the total field
-- lengths, per scope and lexeme the number of chunks that contain it (in body
-- or title), and per counted chunk its field lengths.
--
-- A chunk counts while it is searchable: chunks.is_current and its document's
-- is_latest (the condition of every search). The triggers below keep the
-- statistics equal to a from-scratch count after every statement on chunks or
-- documents (insert, re-chunking, a new document version, delete, truncate),
-- so the code that writes chunks needs no change. They are statement-level,
-- with transition tables: a batch of a thousand chunks updates each lexeme's
-- row once. Writers of the statistics serialise on one transaction-level
-- advisory lock (taken only when a statement changes what counts), so two
-- concurrent chunk steps cannot deadlock on lexeme rows.
--
-- Lengths and term frequencies are PostgreSQL's: the `english` configuration
-- (stemming, stop words dropped) and the number of positions a tsvector keeps
-- per lexeme (at most 256; texts beyond 16,383 words lose positions), the
-- same analyzer for chunks, titles and queries.

CREATE TABLE bm25_scopes (
  id           serial PRIMARY KEY,
  author       text NOT NULL,
  platform     text NOT NULL,
  kind         text NOT NULL,  -- the chunk's kind: article, post, code
  chunks       bigint NOT NULL DEFAULT 0 CHECK (chunks >= 0),
  body_length  bigint NOT NULL DEFAULT 0 CHECK (body_length >= 0),
  title_length bigint NOT NULL DEFAULT 0 CHECK (title_length >= 0),
  UNIQUE (author, platform, kind)
);

-- Document frequency: counted chunks of the scope with the lexeme in their
-- body or their title. Rows that reach 0 are deleted.
CREATE TABLE bm25_terms (
  lexeme   text NOT NULL,
  scope_id integer NOT NULL REFERENCES bm25_scopes (id),
  chunks   bigint NOT NULL CHECK (chunks >= 0),
  PRIMARY KEY (lexeme, scope_id)
);
CREATE INDEX bm25_terms_empty ON bm25_terms (lexeme) WHERE chunks = 0;

-- The counted chunks. No foreign keys on purpose: a deleted chunk's row must
-- still be here when the statement's trigger subtracts it.
CREATE TABLE bm25_chunks (
  chunk_id     bigint PRIMARY KEY,
  scope_id     integer NOT NULL,
  document_id  bigint NOT NULL,
  body_length  integer NOT NULL,
  title_length integer NOT NULL
);
CREATE INDEX bm25_chunks_by_document ON bm25_chunks (document_id);

-- The analysed title of each document with counted chunks (the title field).
CREATE TABLE bm25_titles (
  document_id bigint PRIMARY KEY,
  title       tsvector NOT NULL,
  length      integer NOT NULL
);
CREATE INDEX bm25_titles_search ON bm25_titles USING GIN (title);

-- The number of words a tsvector counts (positions of every lexeme).
CREATE FUNCTION twinflow_tsvector_length(v tsvector) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)::integer FROM unnest(v) AS u
$$;

-- Counts the chunks among `p_ids` that are searchable and not yet counted.
CREATE FUNCTION twinflow_bm25_add(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bm25_scopes (author, platform, kind)
  SELECT DISTINCT d.author, d.platform, c.kind
    FROM chunks c JOIN documents d ON d.id = c.document_id
   WHERE c.id = ANY (p_ids) AND c.is_current AND d.is_latest
  ON CONFLICT (author, platform, kind) DO NOTHING;

  INSERT INTO bm25_titles (document_id, title, length)
  SELECT x.id, x.v, twinflow_tsvector_length(x.v)
    FROM (SELECT DISTINCT d.id, to_tsvector('english', d.title) AS v
            FROM chunks c JOIN documents d ON d.id = c.document_id
           WHERE c.id = ANY (p_ids) AND c.is_current AND d.is_latest) AS x
  ON CONFLICT (document_id) DO NOTHING;

  WITH added AS (
    INSERT INTO bm25_chunks (chunk_id, scope_id, document_id, body_length, title_length)
    SELECT c.id, s.id, c.document_id, twinflow_tsvector_length(c.tsv), t.length
      FROM chunks c
      JOIN documents d ON d.id = c.document_id
      JOIN bm25_scopes s ON s.author = d.author AND s.platform = d.platform AND s.kind = c.kind
      JOIN bm25_titles t ON t.document_id = c.document_id
     WHERE c.id = ANY (p_ids) AND c.is_current AND d.is_latest
    ON CONFLICT (chunk_id) DO NOTHING
    RETURNING chunk_id, scope_id, document_id, body_length, title_length
  ), totals AS (
    UPDATE bm25_scopes s
       SET chunks = s.chunks + a.n, body_length = s.body_length + a.body,
           title_length = s.title_length + a.title
      FROM (SELECT scope_id, count(*) AS n, sum(body_length) AS body, sum(title_length) AS title
              FROM added GROUP BY scope_id) AS a
     WHERE s.id = a.scope_id
  )
  INSERT INTO bm25_terms (lexeme, scope_id, chunks)
  SELECT u.lexeme, a.scope_id, count(*)
    FROM added a
    JOIN chunks c ON c.id = a.chunk_id
    JOIN bm25_titles t ON t.document_id = a.document_id,
         unnest(c.tsv || t.title) AS u
   GROUP BY u.lexeme, a.scope_id
   ORDER BY u.lexeme, a.scope_id
  ON CONFLICT (lexeme, scope_id) DO UPDATE SET chunks = bm25_terms.chunks + EXCLUDED.chunks;
END
$$;

-- Stops counting the chunks among `p_ids` that are counted; p_tsvs[i] is the
-- body p_ids[i] was counted with (a deleted or changed chunk's old one).
CREATE FUNCTION twinflow_bm25_remove(p_ids bigint[], p_tsvs tsvector[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  docs bigint[];
BEGIN
  WITH gone AS (
    DELETE FROM bm25_chunks b USING unnest(p_ids, p_tsvs) AS g (id, tsv)
     WHERE b.chunk_id = g.id
    RETURNING b.chunk_id, b.scope_id, b.document_id, b.body_length, b.title_length, g.tsv
  ), totals AS (
    UPDATE bm25_scopes s
       SET chunks = s.chunks - a.n, body_length = s.body_length - a.body,
           title_length = s.title_length - a.title
      FROM (SELECT scope_id, count(*) AS n, sum(body_length) AS body, sum(title_length) AS title
              FROM gone GROUP BY scope_id) AS a
     WHERE s.id = a.scope_id
  ), terms AS (
    UPDATE bm25_terms t SET chunks = t.chunks - x.n
      FROM (SELECT u.lexeme, g.scope_id, count(*) AS n
              FROM gone g LEFT JOIN bm25_titles ti ON ti.document_id = g.document_id,
                   unnest(g.tsv || coalesce(ti.title, ''::tsvector)) AS u
             GROUP BY u.lexeme, g.scope_id) AS x
     WHERE t.lexeme = x.lexeme AND t.scope_id = x.scope_id
  )
  SELECT array_agg(DISTINCT document_id) INTO docs FROM gone;
  IF docs IS NULL THEN
    RETURN;
  END IF;
  DELETE FROM bm25_terms WHERE chunks = 0;
  DELETE FROM bm25_titles t
   WHERE t.document_id = ANY (docs)
     AND NOT EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.document_id = t.document_id);
END
$$;

-- One lock for every writer of the statistics, held to the end of its
-- transaction (an arbitrary constant, apart from the migrator's).
CREATE FUNCTION twinflow_bm25_lock() RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(7215003412) $$;

CREATE FUNCTION twinflow_bm25_chunks_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
BEGIN
  SELECT array_agg(id) INTO ids FROM new_rows WHERE is_current;
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_add(ids);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION twinflow_bm25_chunks_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  tsvs tsvector[];
BEGIN
  SELECT array_agg(o.id), array_agg(o.tsv) INTO ids, tsvs
    FROM old_rows o JOIN new_rows n ON n.id = o.id
   WHERE (o.is_current, o.document_id, o.kind, o.content)
         IS DISTINCT FROM (n.is_current, n.document_id, n.kind, n.content);
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_remove(ids, tsvs);
    PERFORM twinflow_bm25_add(ids);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION twinflow_bm25_chunks_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  tsvs tsvector[];
BEGIN
  SELECT array_agg(o.id), array_agg(o.tsv) INTO ids, tsvs
    FROM old_rows o WHERE EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.chunk_id = o.id);
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_remove(ids, tsvs);
  END IF;
  RETURN NULL;
END
$$;

-- A document that stops (or starts) being the latest version, or whose title,
-- author or platform changes: its current chunks are counted again.
CREATE FUNCTION twinflow_bm25_documents_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  docs bigint[];
  ids bigint[];
  tsvs tsvector[];
BEGIN
  SELECT array_agg(n.id) INTO docs
    FROM old_rows o JOIN new_rows n ON n.id = o.id
   WHERE (o.is_latest, o.title, o.author, o.platform)
         IS DISTINCT FROM (n.is_latest, n.title, n.author, n.platform);
  IF docs IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(c.id), array_agg(c.tsv) INTO ids, tsvs
    FROM chunks c WHERE c.document_id = ANY (docs) AND c.is_current;
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_remove(ids, tsvs);
    PERFORM twinflow_bm25_add(ids);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION twinflow_bm25_chunks_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM twinflow_bm25_lock();
  TRUNCATE bm25_terms, bm25_chunks, bm25_titles;
  UPDATE bm25_scopes SET chunks = 0, body_length = 0, title_length = 0;
  RETURN NULL;
END
$$;

CREATE TRIGGER chunks_bm25_insert AFTER INSERT ON chunks
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_bm25_chunks_inserted();
CREATE TRIGGER chunks_bm25_update AFTER UPDATE ON chunks
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_bm25_chunks_updated();
CREATE TRIGGER chunks_bm25_delete AFTER DELETE ON chunks
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_bm25_chunks_deleted();
CREATE TRIGGER chunks_bm25_truncate AFTER TRUNCATE ON chunks
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_bm25_chunks_truncated();
CREATE TRIGGER documents_bm25_update AFTER UPDATE ON documents
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION twinflow_bm25_documents_updated();

-- Chunks written before this migration.
SELECT twinflow_bm25_add(coalesce(array_agg(id), '{}')) FROM chunks WHERE is_current;
