-- Two write costs (issue 18).
--
-- 1. SQL that reads packed postings in linear time.
--
-- A block row's postings are stored out of line (STORAGE EXTERNAL), and
-- twinflow_bm25_unpack took each posting with substring() on the stored
-- value: every call fetched its slice from the TOAST table again, so
-- unpacking a row of n postings cost n slice fetches. Measured on 10,000
-- synthetic documents (102,704 chunks): a row of 6,733 postings took 634 ms,
-- and making the 21 chunks of one document not current took 14 s, nearly
-- all of it in twinflow_bm25_remove. Both functions now read one in-memory
-- copy of the value (the same row: 7 ms).
--
-- 2. The vectors' unit-length check moves to the writer.
--
-- The check of migration 0003 computed each vector's norm with a SQL function
-- over unnest(), which PostgreSQL runs as a query of its own per row: about
-- 45 µs per 256-d vector, 5 s of the 17 s that COPY of 122,649 vectors took.
-- FeatureStore::insert_embeddings checks the same condition (norm within
-- 1e-3 of 1, or 0) before it writes and names the chunk it refuses. The table
-- keeps its shape checks; twinflow_vector_norm stays for SQL users.

CREATE OR REPLACE FUNCTION twinflow_bm25_unpack(postings bytea)
RETURNS TABLE (i integer, chunk_id bigint, body_tf integer, title_tf integer, body_length integer,
               title_length integer)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT i,
         ('x' || encode(substring(d.p FROM i * 20 + 1 FOR 8), 'hex'))::bit(64)::bigint,
         get_byte(d.p, i * 20 + 8) * 256 + get_byte(d.p, i * 20 + 9),
         get_byte(d.p, i * 20 + 10) * 256 + get_byte(d.p, i * 20 + 11),
         ('x' || encode(substring(d.p FROM i * 20 + 13 FOR 4), 'hex'))::bit(32)::integer,
         ('x' || encode(substring(d.p FROM i * 20 + 17 FOR 4), 'hex'))::bit(32)::integer
    -- The concatenation makes the in-memory copy; OFFSET 0 makes it once.
    FROM (SELECT postings || ''::bytea AS p OFFSET 0) AS d,
         generate_series(0, length(d.p) / 20 - 1) AS i
$$;

-- As in migration 0023, with the kept postings packed again from the
-- unpacked ones rather than cut out of the stored value.
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
  ), blocks AS (
    UPDATE bm25_blocks b
       SET (postings, chunks) =
           (SELECT coalesce(string_agg(twinflow_bm25_pack(p.chunk_id, p.body_tf, p.title_tf,
                                                          p.body_length, p.title_length),
                                       ''::bytea ORDER BY p.i), ''::bytea),
                   count(*)
              FROM twinflow_bm25_unpack(b.postings) AS p
             WHERE NOT p.chunk_id = ANY (x.ids))
      FROM (SELECT lexeme, scope_id, block, array_agg(chunk_id) AS ids FROM words
             GROUP BY lexeme, scope_id, block) AS x
     WHERE b.lexeme = x.lexeme AND b.scope_id = x.scope_id AND b.block = x.block
  )
  SELECT array_agg(DISTINCT document_id) INTO docs FROM gone;
  IF docs IS NULL THEN
    RETURN;
  END IF;
  DELETE FROM bm25_blocks WHERE chunks = 0;
  DELETE FROM bm25_titles t
   WHERE t.document_id = ANY (docs)
     AND NOT EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.document_id = t.document_id);
END
$$;

ALTER TABLE embeddings DROP CONSTRAINT embeddings_vector_check;
