-- Removing chunks from the BM25 statistics without rewriting their postings
-- (issue 18: a weekly re-crawl).
--
-- twinflow_bm25_remove rewrote every block row that held a removed chunk's
-- lexemes. A block holds up to 10,000 chunks, so one changed document cost
-- the rewrite of a few hundred rows of up to 10,000 postings each. On
-- 100,000 synthetic documents (1.01M chunks, 6.2M block rows, 2.6 GB), making
-- 1,000 documents spread over the corpus not the latest took 202 s: nearly
-- every row of the table was rewritten.
--
-- Now, as Lucene deletes: removing a chunk deletes its bm25_chunks row and
-- records it as dead in its block (bm25_dead), and its lexemes' document
-- frequencies go down in bm25_dead_terms. The postings stay where they are;
-- a search skips a block row's postings of the block's dead chunks, and a
-- lexeme's document frequency is the sum of its block rows' sizes minus its
-- dead count. Scores stay exact.
--
-- Removing the 10,185 chunks of those 1,000 documents now takes 5.5 s, most
-- of it analysing their content again (to_tsvector) for their lexemes.
--
-- The chunk step compacts blocks (FeatureStore::compact_bm25_blocks,
-- store/bm25_compaction.cc): a block with a tenth or more of its chunks dead
-- has its rows written again without the dead postings, and the dead counts
-- go down by what was dropped. A search thus reads few dead chunk ids, and a
-- block is rewritten once per tenth of it removed, not once per document. The
-- filtering is done in C++: in SQL, unpacking and packing postings one by one
-- cost about 24 µs per posting (8.7 s for a block of 6,000 chunks).

CREATE TABLE bm25_dead (
  scope_id  integer NOT NULL,
  block     bigint NOT NULL,
  chunk_ids bigint[] NOT NULL,  -- the block's removed chunks (their postings remain)
  PRIMARY KEY (scope_id, block)
);

CREATE TABLE bm25_dead_terms (
  lexeme   text NOT NULL,
  scope_id integer NOT NULL,
  chunks   integer NOT NULL,  -- dead postings of the lexeme in the scope's block rows
  PRIMARY KEY (lexeme, scope_id) INCLUDE (chunks)
);

-- A block's rows and its counted chunks, for compaction. Block numbers grow
-- with every write, so these indexes are appended to at their right end.
CREATE INDEX bm25_blocks_by_block ON bm25_blocks (scope_id, block);
CREATE INDEX bm25_chunks_by_block ON bm25_chunks (scope_id, block);
DROP INDEX bm25_blocks_empty;  -- rows are emptied by compaction only, which deletes them

-- The views read through the dead chunks, as a search does.
CREATE OR REPLACE VIEW bm25_postings AS
SELECT b.lexeme, b.scope_id, p.chunk_id, p.body_tf, p.title_tf, p.body_length, p.title_length
  FROM bm25_blocks b
  LEFT JOIN bm25_dead d ON d.scope_id = b.scope_id AND d.block = b.block,
       twinflow_bm25_unpack(b.postings) AS p
 WHERE d.chunk_ids IS NULL OR NOT p.chunk_id = ANY (d.chunk_ids);
CREATE OR REPLACE VIEW bm25_terms AS
SELECT b.lexeme, b.scope_id, (sum(b.chunks) - coalesce(max(t.chunks), 0))::bigint AS chunks
  FROM bm25_blocks b
  LEFT JOIN bm25_dead_terms t ON t.lexeme = b.lexeme AND t.scope_id = b.scope_id
 GROUP BY b.lexeme, b.scope_id
HAVING sum(b.chunks) - coalesce(max(t.chunks), 0) > 0;

-- As in migration 0024, without rewriting postings: the chunks become dead in
-- their blocks, and their lexemes' dead counts go up (body lexemes from the
-- caller's analysis of the content, title lexemes from bm25_titles).
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
  ), terms AS (
    INSERT INTO bm25_dead_terms (lexeme, scope_id, chunks)
    SELECT u.lexeme, g.scope_id, count(*)
      FROM gone g LEFT JOIN bm25_titles ti ON ti.document_id = g.document_id,
           unnest(g.tsv || coalesce(ti.title, ''::tsvector)) AS u
     GROUP BY u.lexeme, g.scope_id
    ON CONFLICT (lexeme, scope_id) DO UPDATE SET chunks = bm25_dead_terms.chunks + excluded.chunks
  ), dead AS (
    INSERT INTO bm25_dead (scope_id, block, chunk_ids)
    SELECT scope_id, block, array_agg(chunk_id) FROM gone GROUP BY scope_id, block
    ON CONFLICT (scope_id, block) DO UPDATE SET chunk_ids = bm25_dead.chunk_ids || excluded.chunk_ids
  )
  SELECT array_agg(DISTINCT document_id) INTO docs FROM gone;
  IF docs IS NULL THEN
    RETURN;
  END IF;
  DELETE FROM bm25_titles t
   WHERE t.document_id = ANY (docs)
     AND NOT EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.document_id = t.document_id);
END
$$;

CREATE OR REPLACE FUNCTION twinflow_bm25_chunks_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM twinflow_bm25_lock();
  TRUNCATE bm25_chunks, bm25_titles, bm25_blocks, bm25_dead, bm25_dead_terms;
  UPDATE bm25_scopes SET chunks = 0, body_length = 0, title_length = 0;
  RETURN NULL;
END
$$;

-- The update triggers compared each old row with its new row by joining the
-- statement's transition tables. Those have no statistics, so PostgreSQL took
-- each for one row and joined them by nested loop: quadratic in the rows of
-- the statement. When the chunk step made the 6,753 chunks of a re-crawl's
-- old versions not current, that was 45 million row comparisons, 28 s. Old and
-- new rows are now grouped by id instead (one hash or sort, no join).
CREATE OR REPLACE FUNCTION twinflow_bm25_chunks_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  tsvs tsvector[];
BEGIN
  SELECT array_agg(g.id), array_agg(to_tsvector('english', g.old_content)) INTO ids, tsvs
    FROM (SELECT x.id, max(x.content) FILTER (WHERE x.old) AS old_content,
                 bool_or(x.is_current) FILTER (WHERE NOT x.old) AS now_current,
                 count(DISTINCT (x.is_current, x.document_id, x.kind, x.content)) AS states
            FROM (SELECT true AS old, o.id, o.is_current, o.document_id, o.kind, o.content
                    FROM old_rows o
                  UNION ALL
                  SELECT false, n.id, n.is_current, n.document_id, n.kind, n.content
                    FROM new_rows n) AS x
           GROUP BY x.id) AS g
   WHERE g.states > 1
     AND (EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.chunk_id = g.id) OR g.now_current);
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_remove(ids, tsvs);
    PERFORM twinflow_bm25_add(ids);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION twinflow_bm25_documents_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  docs bigint[];
  ids bigint[];
  tsvs tsvector[];
BEGIN
  SELECT array_agg(g.id) INTO docs
    FROM (SELECT x.id
            FROM (SELECT o.id, o.is_latest, o.title, o.author, o.platform FROM old_rows o
                  UNION ALL
                  SELECT n.id, n.is_latest, n.title, n.author, n.platform FROM new_rows n) AS x
           GROUP BY x.id
          HAVING count(DISTINCT (x.is_latest, x.title, x.author, x.platform)) > 1) AS g;
  IF docs IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(c.id), array_agg(to_tsvector('english', c.content)) INTO ids, tsvs
    FROM chunks c WHERE c.document_id = ANY (docs) AND c.is_current;
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_remove(ids, tsvs);
    PERFORM twinflow_bm25_add(ids);
  END IF;
  RETURN NULL;
END
$$;
