-- BM25 postings: per counted chunk and lexeme of its body or its document's
-- title, the term frequencies and the chunk's field lengths, so that a text
-- search reads only the postings of its query's lexemes (one index range per
-- lexeme and scope) instead of expanding every candidate chunk's tsvector.
--
-- A posting exists exactly while its chunk is counted in bm25_chunks
-- (migration 0012): twinflow_bm25_add writes the postings of the chunks it
-- counts and twinflow_bm25_remove deletes those of the chunks it stops
-- counting, in the same statement-level triggers, so postings follow
-- re-chunking, new document versions, deletes and truncation in the chunk
-- writer's transaction. Hence for every (lexeme, scope) the number of
-- postings equals bm25_terms.chunks. The lengths are copied from bm25_chunks:
-- a chunk's lengths only change by being removed and added again.

CREATE TABLE bm25_postings (
  lexeme       text NOT NULL,
  scope_id     integer NOT NULL,
  chunk_id     bigint NOT NULL,
  body_tf      integer NOT NULL,  -- positions of the lexeme in the chunk's body
  title_tf     integer NOT NULL,  -- in its document's title
  body_length  integer NOT NULL,
  title_length integer NOT NULL,
  PRIMARY KEY (lexeme, scope_id, chunk_id)
    INCLUDE (body_tf, title_tf, body_length, title_length)
);

CREATE OR REPLACE FUNCTION twinflow_bm25_add(p_ids bigint[]) RETURNS void
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
  ), posted AS (
    INSERT INTO bm25_postings (lexeme, scope_id, chunk_id, body_tf, title_tf, body_length,
                               title_length)
    SELECT x.lexeme, a.scope_id, a.chunk_id, sum(x.body), sum(x.title), a.body_length,
           a.title_length
      FROM added a
      JOIN chunks c ON c.id = a.chunk_id
      JOIN bm25_titles t ON t.document_id = a.document_id,
           LATERAL (SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1) AS body, 0 AS title
                      FROM unnest(c.tsv) u
                    UNION ALL
                    SELECT u.lexeme, 0, coalesce(array_length(u.positions, 1), 1)
                      FROM unnest(t.title) u) AS x
     GROUP BY x.lexeme, a.scope_id, a.chunk_id, a.body_length, a.title_length
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

CREATE OR REPLACE FUNCTION twinflow_bm25_remove(p_ids bigint[], p_tsvs tsvector[]) RETURNS void
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
  ), words AS (
    SELECT u.lexeme, g.scope_id, g.chunk_id
      FROM gone g LEFT JOIN bm25_titles ti ON ti.document_id = g.document_id,
           unnest(g.tsv || coalesce(ti.title, ''::tsvector)) AS u
  ), terms AS (
    UPDATE bm25_terms t SET chunks = t.chunks - x.n
      FROM (SELECT lexeme, scope_id, count(*) AS n FROM words GROUP BY lexeme, scope_id) AS x
     WHERE t.lexeme = x.lexeme AND t.scope_id = x.scope_id
  ), postings AS (
    DELETE FROM bm25_postings p USING words w
     WHERE p.lexeme = w.lexeme AND p.scope_id = w.scope_id AND p.chunk_id = w.chunk_id
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

CREATE OR REPLACE FUNCTION twinflow_bm25_chunks_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM twinflow_bm25_lock();
  TRUNCATE bm25_terms, bm25_chunks, bm25_titles, bm25_postings;
  UPDATE bm25_scopes SET chunks = 0, body_length = 0, title_length = 0;
  RETURN NULL;
END
$$;

-- Chunks counted before this migration.
INSERT INTO bm25_postings (lexeme, scope_id, chunk_id, body_tf, title_tf, body_length,
                           title_length)
SELECT x.lexeme, b.scope_id, b.chunk_id, sum(x.body), sum(x.title), b.body_length, b.title_length
  FROM bm25_chunks b
  JOIN chunks c ON c.id = b.chunk_id
  JOIN bm25_titles t ON t.document_id = b.document_id,
       LATERAL (SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1) AS body, 0 AS title
                  FROM unnest(c.tsv) u
                UNION ALL
                SELECT u.lexeme, 0, coalesce(array_length(u.positions, 1), 1)
                  FROM unnest(t.title) u) AS x
 GROUP BY x.lexeme, b.scope_id, b.chunk_id, b.body_length, b.title_length;
