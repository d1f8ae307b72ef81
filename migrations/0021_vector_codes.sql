-- Compact codes for the IVF index (migration 0017), so that a search reads a
-- few hundred kilobytes per probed list instead of one 1 KB row per vector.
--
-- A search used to read every vector of the probed lists from vector_lists:
-- at 100,000 vectors of 256 dimensions and 53 lists that is 15,000 rows and
-- 30 MB of hex, about 400 ms of a fresh `twinflow search`. Now it reads the
-- lists' code blocks: per vector, its chunk id, a scale and one signed byte
-- per dimension (x ≈ code × scale / 127, scale = max |x|), about a quarter of
-- the bytes and one row per list and write. It ranks the vectors by the codes'
-- approximate scores, then re-scores its best candidates with their exact
-- vectors from vector_lists (which also drops deleted chunks) and keeps the
-- searchable ones (tasks/search/ivf_search.cc).
--
-- vector_codes rows are written with the vector_lists rows they encode, in
-- the same transaction, one row per list and write. A deleted chunk's code
-- stays until the next build empties the model's codes; a search skips it,
-- since the chunk has no exact vector any more.

CREATE TABLE vector_codes (
  model_id bigint NOT NULL REFERENCES embedding_models (id) ON DELETE CASCADE,
  list     integer NOT NULL,
  block    bigserial,
  -- per vector, little-endian: int64 chunk id, float32 scale, dimension × int8
  entries  bytea NOT NULL,
  PRIMARY KEY (model_id, list, block)
);
-- Read whole, incompressible: out of line when large, without compression.
ALTER TABLE vector_codes ALTER COLUMN entries SET STORAGE EXTERNAL;

-- Existing indexes have no codes: the next search rebuilds them (a build
-- starts when more vectors were assigned since than it listed).
UPDATE vector_indexes SET assigned = trained_on + 1 WHERE lists > 0;
