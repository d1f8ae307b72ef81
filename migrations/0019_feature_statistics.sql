-- The data steps ANALYZE the feature store's tables after a bulk change
-- (Store::refresh_feature_statistics), so that search plans use the
-- full-text and vector-table indexes. On `embeddings` that was most of the
-- embed step's bookkeeping: PostgreSQL's statistics of an array column are
-- per element (the most common floats of every vector in the sample, 30,000
-- rows of 256 floats), which no query uses, since vectors are only read
-- whole. Statistics of the other columns (chunk_id, model_id) are kept.
ALTER TABLE embeddings ALTER COLUMN vector SET STATISTICS 0;
