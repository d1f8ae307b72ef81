-- The web dashboard's document page lists every version of a document (same
-- author and URL, newest first) to diff two of them: without this index that
-- is a scan of the documents table (store/dashboard_queries.cc).
CREATE INDEX documents_versions ON documents (author, url, version DESC);
