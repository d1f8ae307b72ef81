-- Smaller BM25 postings (issue 18): a block row names the codec of its
-- postings, and the chunk writer packs them in about 6 bytes per chunk
-- instead of 20 (store/bm25_postings.h).
--
-- Codec 1 (migration 0023) spends 20 bytes on each posting: its chunk id in
-- 8, its frequencies in 2 each, its lengths in 4 each. On 10,000 synthetic
-- documents the chunk step wrote 10.4 million postings in 782,305 block rows,
-- 209 MB of postings sent as 418 MB of hex, the largest write of the step.
-- Codec 2 writes five unsigned LEB128 varints per posting: the distance of
-- its chunk id from the one before in the row (the first: the id), then
-- body_tf, title_tf, body_length and title_length. Ids in a row ascend and a
-- block's chunks come from one batch, so a distance is one or two bytes, a
-- frequency one, a length one or two.
--
-- Rows written before keep codec 1 and are read as they are: nothing is
-- rewritten here. Compaction (store/bm25_compaction.cc) writes the rows it
-- rewrites in codec 2. The database's own path (twinflow_bm25_add, for chunks
-- inserted by SQL) still packs codec 1 with twinflow_bm25_pack.
--
-- Scores stay exact: both codecs hold the same five numbers per posting.

ALTER TABLE bm25_blocks ADD COLUMN codec smallint NOT NULL DEFAULT 1;

-- The postings of a codec 2 row, with their place (0, 1, ...). For SQL users
-- and the views; searches decode rows in C++.
CREATE FUNCTION twinflow_bm25_unpack_varint(postings bytea)
RETURNS TABLE (i integer, chunk_id bigint, body_tf integer, title_tf integer, body_length integer,
               title_length integer)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  at integer := 0;
  n integer := length(postings);
  b integer;
  shift integer;
  v bigint;
  f integer;
  fields bigint[];
  id bigint := 0;
BEGIN
  i := 0;
  WHILE at < n LOOP
    fields := '{}';
    FOR f IN 1..5 LOOP
      v := 0;
      shift := 0;
      LOOP
        IF at >= n OR shift > 56 THEN
          RAISE EXCEPTION 'twinflow_bm25_unpack_varint: malformed postings at byte %', at;
        END IF;
        b := get_byte(postings, at);
        at := at + 1;
        v := v | ((b & 127)::bigint << shift);
        EXIT WHEN b < 128;
        shift := shift + 7;
      END LOOP;
      fields := fields || v;
    END LOOP;
    id := id + fields[1];
    chunk_id := id;
    body_tf := fields[2];
    title_tf := fields[3];
    body_length := fields[4];
    title_length := fields[5];
    RETURN NEXT;
    i := i + 1;
  END LOOP;
END
$$;

-- The postings of a row in either codec.
CREATE FUNCTION twinflow_bm25_unpack(postings bytea, codec smallint)
RETURNS TABLE (i integer, chunk_id bigint, body_tf integer, title_tf integer, body_length integer,
               title_length integer)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT * FROM twinflow_bm25_unpack(postings) WHERE codec = 1
  UNION ALL
  SELECT * FROM twinflow_bm25_unpack_varint(postings) WHERE codec = 2
$$;

CREATE OR REPLACE VIEW bm25_postings AS
SELECT b.lexeme, b.scope_id, p.chunk_id, p.body_tf, p.title_tf, p.body_length, p.title_length
  FROM bm25_blocks b
  LEFT JOIN bm25_dead d ON d.scope_id = b.scope_id AND d.block = b.block,
       twinflow_bm25_unpack(b.postings, b.codec) AS p
 WHERE d.chunk_ids IS NULL OR NOT p.chunk_id = ANY (d.chunk_ids);
