-- BM25 postings in blocks: the postings of migration 0016, one row per
-- (lexeme, scope, block) holding parallel arrays of the block's chunks
-- instead of one row per (lexeme, scope, chunk), so that bulk chunk writes
-- stay cheap (issue 18).
--
-- One posting row per chunk and lexeme made the statistics triggers write
-- about 100 index and heap tuples per chunk (2.5 million for 3,000
-- documents), and they were three quarters of the chunk step's time. Every
-- call of twinflow_bm25_add (one per statement on chunks: the chunk step's
-- batch) now writes the chunks it counts as blocks of at most 2,000 chunks:
-- per block, one row per lexeme of any of its chunks, with the chunk ids and
-- their term frequencies and field lengths as arrays in the same order. A
-- batch of 5,000 chunks writes about 40,000 rows instead of 500,000, grouped
-- in memory by hashing rather than sorted.
--
-- bm25_postings is now a view over the blocks with the columns of the table
-- it replaces, so the text search (store/store_search.cc) reads it as before:
-- the lexeme and scope of a search select block rows through their primary
-- key, whose arrays are unnested. Scores stay exact: the view holds exactly
-- one posting per counted chunk and lexeme of its body or its title, the
-- chunk's frequencies and lengths, as the table did.
--
-- bm25_chunks.block names the block that holds a counted chunk's postings.
-- Removing a chunk (twinflow_bm25_remove) rewrites the arrays of its
-- lexemes' rows in its block without it; rows left empty are deleted. A block
-- is bounded (2,000 chunks), and so is the rewrite.

ALTER TABLE bm25_chunks ADD COLUMN block bigint NOT NULL DEFAULT 0;

-- Positive block numbers come from here; blocks migrated from 0016's postings
-- are negative (-1 - chunk_id / 2000).
CREATE SEQUENCE bm25_block_ids;

CREATE TABLE bm25_blocks (
  lexeme        text NOT NULL,
  scope_id      integer NOT NULL,
  block         bigint NOT NULL,
  chunk_ids     bigint[] NOT NULL,   -- the block's counted chunks with the lexeme
  body_tfs      integer[] NOT NULL,  -- positions of the lexeme in each one's body
  title_tfs     integer[] NOT NULL,  -- in its document's title
  body_lengths  integer[] NOT NULL,  -- each chunk's field lengths (bm25_chunks)
  title_lengths integer[] NOT NULL,
  PRIMARY KEY (lexeme, scope_id, block)
);
-- Arrays are read whole and rarely compress well: stored out of line when
-- large, without compression.
ALTER TABLE bm25_blocks
  ALTER COLUMN chunk_ids SET STORAGE EXTERNAL, ALTER COLUMN body_tfs SET STORAGE EXTERNAL,
  ALTER COLUMN title_tfs SET STORAGE EXTERNAL, ALTER COLUMN body_lengths SET STORAGE EXTERNAL,
  ALTER COLUMN title_lengths SET STORAGE EXTERNAL;
CREATE INDEX bm25_blocks_empty ON bm25_blocks (block) WHERE cardinality(chunk_ids) = 0;

-- The postings counted before this migration, in blocks of chunk ids.
UPDATE bm25_chunks SET block = -1 - chunk_id / 2000;
INSERT INTO bm25_blocks (lexeme, scope_id, block, chunk_ids, body_tfs, title_tfs, body_lengths,
                         title_lengths)
SELECT lexeme, scope_id, -1 - chunk_id / 2000, array_agg(chunk_id ORDER BY chunk_id),
       array_agg(body_tf ORDER BY chunk_id), array_agg(title_tf ORDER BY chunk_id),
       array_agg(body_length ORDER BY chunk_id), array_agg(title_length ORDER BY chunk_id)
  FROM bm25_postings
 GROUP BY lexeme, scope_id, -1 - chunk_id / 2000;
DROP TABLE bm25_postings;

CREATE VIEW bm25_postings AS
SELECT b.lexeme, b.scope_id, p.chunk_id, p.body_tf, p.title_tf, p.body_length, p.title_length
  FROM bm25_blocks b,
       unnest(b.chunk_ids, b.body_tfs, b.title_tfs, b.body_lengths, b.title_lengths)
         AS p (chunk_id, body_tf, title_tf, body_length, title_length);

-- Counts the chunks among `p_ids` that are searchable and not yet counted.
-- Callers hold twinflow_bm25_lock(), so no other writer counts them meanwhile.
-- One pass over the chunks' tsvectors: a lexeme's body frequency from the
-- chunk's tsvector, its title frequency looked up in the document's few title
-- lexemes, plus the title's lexemes the body lacks.
CREATE OR REPLACE FUNCTION twinflow_bm25_add(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
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

  WITH live AS MATERIALIZED (
    SELECT c.id AS chunk_id, s.id AS scope_id, c.document_id, c.tsv, t.title,
           t.length AS title_length,
           (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)
              FROM unnest(c.tsv) AS u)::integer AS body_length,
           tl.lexemes AS title_lexemes, tl.tfs AS title_tfs,
           (row_number() OVER (ORDER BY c.id) - 1) / 2000 AS part
      FROM chunks c
      JOIN documents d ON d.id = c.document_id
      JOIN bm25_scopes s ON s.author = d.author AND s.platform = d.platform AND s.kind = c.kind
      JOIN bm25_titles t ON t.document_id = c.document_id,
           LATERAL (SELECT array_agg(u.lexeme) AS lexemes,
                           array_agg(coalesce(array_length(u.positions, 1), 1)) AS tfs
                      FROM unnest(t.title) AS u) AS tl
     WHERE c.id = ANY (p_ids) AND c.is_current AND d.is_latest
       AND NOT EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.chunk_id = c.id)
  ), parts AS MATERIALIZED (
    SELECT x.part, nextval('bm25_block_ids') AS block FROM (SELECT DISTINCT part FROM live) AS x
  ), counted AS MATERIALIZED (
    SELECT l.*, p.block FROM live l JOIN parts p ON p.part = l.part
  ), added AS (
    INSERT INTO bm25_chunks (chunk_id, scope_id, document_id, body_length, title_length, block)
    SELECT chunk_id, scope_id, document_id, body_length, title_length, block FROM counted
  ), totals AS (
    UPDATE bm25_scopes s
       SET chunks = s.chunks + a.n, body_length = s.body_length + a.body,
           title_length = s.title_length + a.title
      FROM (SELECT scope_id, count(*) AS n, sum(body_length) AS body, sum(title_length) AS title
              FROM counted GROUP BY scope_id) AS a
     WHERE s.id = a.scope_id
  ), postings AS (
    SELECT u.lexeme, l.scope_id, l.block, l.chunk_id,
           coalesce(array_length(u.positions, 1), 1) AS body_tf,
           coalesce(l.title_tfs[array_position(l.title_lexemes, u.lexeme)], 0) AS title_tf,
           l.body_length, l.title_length
      FROM counted l, unnest(l.tsv) AS u
    UNION ALL
    SELECT u.lexeme, l.scope_id, l.block, l.chunk_id, 0, coalesce(array_length(u.positions, 1), 1),
           l.body_length, l.title_length
      FROM counted l, unnest(ts_delete(l.title, tsvector_to_array(l.tsv))) AS u
  ), blocks AS (
    INSERT INTO bm25_blocks (lexeme, scope_id, block, chunk_ids, body_tfs, title_tfs,
                             body_lengths, title_lengths)
    SELECT lexeme, scope_id, block, array_agg(chunk_id), array_agg(body_tf), array_agg(title_tf),
           array_agg(body_length), array_agg(title_length)
      FROM postings
     GROUP BY lexeme, scope_id, block
    RETURNING lexeme, scope_id, cardinality(chunk_ids) AS n
  )
  INSERT INTO bm25_terms (lexeme, scope_id, chunks)
  SELECT lexeme, scope_id, sum(n) FROM blocks
   GROUP BY lexeme, scope_id
   ORDER BY lexeme, scope_id
  ON CONFLICT (lexeme, scope_id) DO UPDATE SET chunks = bm25_terms.chunks + EXCLUDED.chunks;
END
$$;

-- Stops counting the chunks among `p_ids` that are counted; p_tsvs[i] is the
-- body p_ids[i] was counted with (a deleted or changed chunk's old one).
CREATE OR REPLACE FUNCTION twinflow_bm25_remove(p_ids bigint[], p_tsvs tsvector[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  docs bigint[];
BEGIN
  WITH gone AS (
    DELETE FROM bm25_chunks b USING unnest(p_ids, p_tsvs) AS g (id, tsv)
     WHERE b.chunk_id = g.id
    RETURNING b.chunk_id, b.scope_id, b.document_id, b.body_length, b.title_length, b.block, g.tsv
  ), totals AS (
    UPDATE bm25_scopes s
       SET chunks = s.chunks - a.n, body_length = s.body_length - a.body,
           title_length = s.title_length - a.title
      FROM (SELECT scope_id, count(*) AS n, sum(body_length) AS body, sum(title_length) AS title
              FROM gone GROUP BY scope_id) AS a
     WHERE s.id = a.scope_id
  ), words AS (
    SELECT u.lexeme, g.scope_id, g.block, g.chunk_id
      FROM gone g LEFT JOIN bm25_titles ti ON ti.document_id = g.document_id,
           unnest(g.tsv || coalesce(ti.title, ''::tsvector)) AS u
  ), terms AS (
    UPDATE bm25_terms t SET chunks = t.chunks - x.n
      FROM (SELECT lexeme, scope_id, count(*) AS n FROM words GROUP BY lexeme, scope_id) AS x
     WHERE t.lexeme = x.lexeme AND t.scope_id = x.scope_id
  ), blocks AS (
    UPDATE bm25_blocks b
       SET (chunk_ids, body_tfs, title_tfs, body_lengths, title_lengths) =
           (SELECT coalesce(array_agg(p.chunk_id ORDER BY p.o), '{}'),
                   coalesce(array_agg(p.body_tf ORDER BY p.o), '{}'),
                   coalesce(array_agg(p.title_tf ORDER BY p.o), '{}'),
                   coalesce(array_agg(p.body_length ORDER BY p.o), '{}'),
                   coalesce(array_agg(p.title_length ORDER BY p.o), '{}')
              FROM unnest(b.chunk_ids, b.body_tfs, b.title_tfs, b.body_lengths, b.title_lengths)
                   WITH ORDINALITY AS p (chunk_id, body_tf, title_tf, body_length, title_length, o)
             WHERE NOT p.chunk_id = ANY (x.ids))
      FROM (SELECT lexeme, scope_id, block, array_agg(chunk_id) AS ids FROM words
             GROUP BY lexeme, scope_id, block) AS x
     WHERE b.lexeme = x.lexeme AND b.scope_id = x.scope_id AND b.block = x.block
  )
  SELECT array_agg(DISTINCT document_id) INTO docs FROM gone;
  IF docs IS NULL THEN
    RETURN;
  END IF;
  DELETE FROM bm25_terms WHERE chunks = 0;
  DELETE FROM bm25_blocks WHERE cardinality(chunk_ids) = 0;
  DELETE FROM bm25_titles t
   WHERE t.document_id = ANY (docs)
     AND NOT EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.document_id = t.document_id);
END
$$;

CREATE OR REPLACE FUNCTION twinflow_bm25_chunks_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM twinflow_bm25_lock();
  TRUNCATE bm25_terms, bm25_chunks, bm25_titles, bm25_blocks;
  UPDATE bm25_scopes SET chunks = 0, body_length = 0, title_length = 0;
  RETURN NULL;
END
$$;
