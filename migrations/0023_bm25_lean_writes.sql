-- Cheaper chunk writes (issue 18): chunks keep no tsvector, a block row's
-- postings are packed in one bytea, and document frequencies are summed from
-- the block rows instead of kept in a table.
--
-- Measured on 10,000 synthetic documents (102,704 chunks), the chunk step
-- spent 28 s writing, of which:
--   * 9 s on chunks.tsv: the tsvector literal was larger than the chunk's
--     text, and PostgreSQL parsed it (tsvectorin), compressed and stored it.
--     Only the triggers that stop counting a chunk read it back, to know the
--     lexemes they remove. They now analyse the chunk's old content again with
--     to_tsvector('english', ...), which is what the writer's analysis
--     (store/english_analyzer.h) equals.
--   * 7 s on bm25_terms: one upsert per (lexeme, scope) per batch, none of
--     them HOT because a partial index named `chunks`, and a foreign-key check
--     per new lexeme. A block row now carries its number of chunks (`chunks`,
--     in its primary key's INCLUDE), and a lexeme's document frequency is the
--     sum over its block rows, read through that index. bm25_terms becomes a
--     view of those sums.
--   * 14 s on bm25_blocks, about 15 rows per chunk on a varied vocabulary.
--     Parsing each row's five array literals was a third of what PostgreSQL
--     spent on it (9.6 s against 6.6 s for the 1.6 million rows, by COPY).
--     A row now holds `postings`: 20 bytes per chunk, in chunk id order, each
--       chunk_id int8, body_tf int2, title_tf int2, body_length int4,
--       title_length int4
--     big-endian (what int8send, int2send and int4send give), so SQL can write
--     and read them too (twinflow_bm25_pack, twinflow_bm25_unpack). The store
--     sends them as hex and reads them in C++ (store/bm25_postings.h). A term
--     frequency is at most 255 (a tsvector keeps 255 positions per lexeme).
--
-- bm25_postings stays a view with the same columns, and scores stay exact:
-- the same postings, counts and totals as before.

CREATE FUNCTION twinflow_bm25_pack(chunk_id bigint, body_tf integer, title_tf integer,
                                   body_length integer, title_length integer) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT int8send(chunk_id) || int2send(body_tf::smallint) || int2send(title_tf::smallint)
         || int4send(body_length) || int4send(title_length)
$$;

-- The postings of a block row, with their place (0, 1, ...).
CREATE FUNCTION twinflow_bm25_unpack(postings bytea)
RETURNS TABLE (i integer, chunk_id bigint, body_tf integer, title_tf integer, body_length integer,
               title_length integer)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT i,
         ('x' || encode(substring(postings FROM i * 20 + 1 FOR 8), 'hex'))::bit(64)::bigint,
         get_byte(postings, i * 20 + 8) * 256 + get_byte(postings, i * 20 + 9),
         get_byte(postings, i * 20 + 10) * 256 + get_byte(postings, i * 20 + 11),
         ('x' || encode(substring(postings FROM i * 20 + 13 FOR 4), 'hex'))::bit(32)::integer,
         ('x' || encode(substring(postings FROM i * 20 + 17 FOR 4), 'hex'))::bit(32)::integer
    FROM generate_series(0, length(postings) / 20 - 1) AS i
$$;

-- Block rows: their postings packed, and their number.
DROP VIEW bm25_postings;
DROP TABLE bm25_terms;
ALTER TABLE bm25_blocks ADD COLUMN postings bytea, ADD COLUMN chunks integer;
UPDATE bm25_blocks b
   SET chunks = cardinality(b.chunk_ids),
       postings = (SELECT string_agg(twinflow_bm25_pack(p.c, p.bt, p.tt, p.bl, p.tl), ''::bytea
                                     ORDER BY p.c)
                     FROM unnest(b.chunk_ids, b.body_tfs, b.title_tfs, b.body_lengths,
                                 b.title_lengths) AS p (c, bt, tt, bl, tl));
-- Dropping chunk_ids drops the partial index on its cardinality as well.
ALTER TABLE bm25_blocks DROP COLUMN chunk_ids, DROP COLUMN body_tfs, DROP COLUMN title_tfs,
  DROP COLUMN body_lengths, DROP COLUMN title_lengths,
  ALTER COLUMN postings SET NOT NULL, ALTER COLUMN postings SET STORAGE EXTERNAL,
  ALTER COLUMN chunks SET NOT NULL,
  DROP CONSTRAINT bm25_blocks_pkey,
  ADD PRIMARY KEY (lexeme, scope_id, block) INCLUDE (chunks);
CREATE INDEX bm25_blocks_empty ON bm25_blocks (block) WHERE chunks = 0;

CREATE VIEW bm25_postings AS
SELECT b.lexeme, b.scope_id, p.chunk_id, p.body_tf, p.title_tf, p.body_length, p.title_length
  FROM bm25_blocks b, twinflow_bm25_unpack(b.postings) AS p;
CREATE VIEW bm25_terms AS
SELECT lexeme, scope_id, sum(chunks)::bigint AS chunks FROM bm25_blocks GROUP BY lexeme, scope_id;

-- Chunks keep no tsvector.
DROP TRIGGER chunks_default_tsv ON chunks;
DROP TRIGGER chunks_content_tsv ON chunks;
DROP FUNCTION twinflow_chunks_default_tsv();
ALTER TABLE chunks DROP COLUMN tsv;

-- As in migration 0020, with the body analysed from `content` and the postings
-- packed.
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

  WITH analysed AS MATERIALIZED (
    SELECT c.id, c.document_id, c.kind, to_tsvector('english', c.content) AS tsv
      FROM chunks c JOIN documents d ON d.id = c.document_id
     WHERE c.id = ANY (p_ids) AND c.is_current AND d.is_latest
       AND NOT EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.chunk_id = c.id)
  ), live AS MATERIALIZED (
    SELECT c.id AS chunk_id, s.id AS scope_id, c.document_id, c.tsv, t.title,
           t.length AS title_length, twinflow_tsvector_length(c.tsv) AS body_length,
           tl.lexemes AS title_lexemes, tl.tfs AS title_tfs,
           (row_number() OVER (ORDER BY c.id) - 1) / 2000 AS part
      FROM analysed c
      JOIN documents d ON d.id = c.document_id
      JOIN bm25_scopes s ON s.author = d.author AND s.platform = d.platform AND s.kind = c.kind
      JOIN bm25_titles t ON t.document_id = c.document_id,
           LATERAL (SELECT array_agg(u.lexeme) AS lexemes,
                           array_agg(coalesce(array_length(u.positions, 1), 1)) AS tfs
                      FROM unnest(t.title) AS u) AS tl
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
  )
  INSERT INTO bm25_blocks (lexeme, scope_id, block, postings, chunks)
  SELECT lexeme, scope_id, block,
         string_agg(twinflow_bm25_pack(chunk_id, body_tf, title_tf, body_length, title_length),
                    ''::bytea ORDER BY chunk_id),
         count(*)
    FROM postings
   GROUP BY lexeme, scope_id, block;
END
$$;

-- As in migration 0020, cutting the removed chunks' postings out of the packed
-- rows and keeping their sizes.
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
           (SELECT coalesce(string_agg(substring(b.postings FROM p.i * 20 + 1 FOR 20), ''::bytea
                                       ORDER BY p.i), ''::bytea),
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

-- The triggers of migration 0012, with a chunk's counted body analysed from
-- its (old) content.
CREATE OR REPLACE FUNCTION twinflow_bm25_chunks_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  tsvs tsvector[];
BEGIN
  SELECT array_agg(o.id), array_agg(to_tsvector('english', o.content)) INTO ids, tsvs
    FROM old_rows o JOIN new_rows n ON n.id = o.id
   WHERE (o.is_current, o.document_id, o.kind, o.content)
         IS DISTINCT FROM (n.is_current, n.document_id, n.kind, n.content)
     AND (EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.chunk_id = o.id) OR n.is_current);
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_remove(ids, tsvs);
    PERFORM twinflow_bm25_add(ids);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION twinflow_bm25_chunks_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
  tsvs tsvector[];
BEGIN
  SELECT array_agg(o.id), array_agg(to_tsvector('english', o.content)) INTO ids, tsvs
    FROM old_rows o WHERE EXISTS (SELECT 1 FROM bm25_chunks b WHERE b.chunk_id = o.id);
  IF ids IS NOT NULL THEN
    PERFORM twinflow_bm25_lock();
    PERFORM twinflow_bm25_remove(ids, tsvs);
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
  SELECT array_agg(n.id) INTO docs
    FROM old_rows o JOIN new_rows n ON n.id = o.id
   WHERE (o.is_latest, o.title, o.author, o.platform)
         IS DISTINCT FROM (n.is_latest, n.title, n.author, n.platform);
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

CREATE OR REPLACE FUNCTION twinflow_bm25_chunks_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM twinflow_bm25_lock();
  TRUNCATE bm25_chunks, bm25_titles, bm25_blocks;
  UPDATE bm25_scopes SET chunks = 0, body_length = 0, title_length = 0;
  RETURN NULL;
END
$$;
