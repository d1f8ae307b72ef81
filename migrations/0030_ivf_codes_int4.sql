-- A fresh `twinflow search` reads fewer bytes from the IVF index (issue 15:
-- 150 ms over 100,000 chunks): int4 codes for the lists, int8 codes for the
-- centroids, both as base64 text.
--
-- At 100,000 vectors of 256 dimensions a fresh vector search read the int8
-- codes of 53 lists, 4.3 MB, and 316 float32 centroids, 323 KB. libpqxx 6.4
-- reads results in text form only, and bytea's text form is hex, which the
-- server writes at about 3 ns a byte: 9 MB of hex, the largest part of the
-- search. Every byte also costs a fresh backend and a fresh process page
-- faults (12 µs a page on the benchmark's VMs).
--
-- Now:
-- - vector_codes.entries is base64 text (RFC 4648, no line breaks;
--   util/base64.h) of entries of an int64 chunk id, a float32 scale and an
--   int4 code of the vector (util/int4_codes.h): 140 bytes at 256 dimensions
--   instead of 268, 3 MB of text where there were 9 MB of hex. Searches
--   re-score their best candidates with the exact vectors as before;
-- - vector_indexes.centroids is base64 text of, per centroid, a float32 scale
--   and an int8 code (util/int8_codes.h): 110 KB of text instead of 646 KB of
--   hex. The build assigns vectors with the centroids as stored.
-- Both are stored without compression: read whole, and rather a little
-- larger than decompressed on every search.
--
-- Existing indexes cannot be converted (the codes are made from the vectors):
-- they become unusable (lists = 0), searches rank exactly until the next
-- search or build rebuilds them, as after a build that died.

UPDATE vector_indexes SET lists = 0, trained_on = 0, assigned = 0;
DELETE FROM vector_codes;
ALTER TABLE vector_codes ALTER COLUMN entries TYPE text USING '';
ALTER TABLE vector_codes ALTER COLUMN entries SET STORAGE EXTERNAL;
ALTER TABLE vector_indexes ALTER COLUMN centroids TYPE text USING '';
ALTER TABLE vector_indexes ALTER COLUMN centroids SET STORAGE EXTERNAL;
