-- The feature store: what the crawl, clean, chunk and embed steps keep for
-- retrieval and for building datasets. Rows are written by built-in steps and
-- name the step run (attempt) that wrote them, so lineage reaches from any
-- chunk back through its document to the URL and the fetch that produced it.
-- docs/ARCHITECTURE.md describes the tables; store/store_documents.cc and
-- store/store_embeddings.cc are the only C++ that reads or writes them.

-- One row per version of a crawled document. A document is identified by its
-- author (whose twin it feeds) and its URL; a fetch whose content differs from
-- the latest version adds version + 1 and keeps the old one, an unchanged fetch
-- only refreshes checked_at and the HTTP validators.
CREATE TABLE documents (
  id             bigserial PRIMARY KEY,
  author         text NOT NULL,
  platform       text NOT NULL CHECK (platform IN ('medium', 'substack', 'linkedin', 'github', 'web')),
  kind           text NOT NULL CHECK (kind IN ('article', 'post', 'repository')),
  url            text NOT NULL,
  version        integer NOT NULL CHECK (version >= 1),
  is_latest      boolean NOT NULL DEFAULT true,
  title          text NOT NULL DEFAULT '',
  subtitle       text NOT NULL DEFAULT '',
  byline         text NOT NULL DEFAULT '',  -- the author as the page names them
  published_at   timestamptz,
  canonical_url  text NOT NULL DEFAULT '',
  language       text NOT NULL DEFAULT '',
  content        text NOT NULL,             -- body text, blocks separated by blank lines
  blocks         jsonb NOT NULL DEFAULT '[]',  -- the body's structure: [{"kind", "level", "text"}]
  content_sha256 text NOT NULL,
  etag           text,
  last_modified  text,
  fetched_at     timestamptz NOT NULL DEFAULT now(),
  checked_at     timestamptz NOT NULL DEFAULT now(),
  step_run_id    bigint REFERENCES step_runs (id),
  UNIQUE (author, url, version)
);
CREATE UNIQUE INDEX documents_latest ON documents (author, url) WHERE is_latest;
CREATE INDEX documents_by_author ON documents (author, platform) WHERE is_latest;

-- A document version after cleaning, once per cleaner configuration
-- (`cleaner` is a fingerprint of the cleaning options).
CREATE TABLE cleaned_documents (
  id             bigserial PRIMARY KEY,
  document_id    bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  cleaner        text NOT NULL,
  content        text NOT NULL,
  content_sha256 text NOT NULL,
  step_run_id    bigint REFERENCES step_runs (id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (document_id, cleaner)
);

-- Pieces of a cleaned document sized for embedding. chunk_key is a sha256 of
-- the document (author, URL, version), the chunker configuration, the position
-- and the content, so the same corpus always yields the same keys. The
-- offsets are byte offsets into the cleaned content. is_current marks the
-- chunks retrieval uses: chunking a document (a new version, or with other
-- options) makes its earlier chunks non-current in the same transaction, so a
-- changed document is searchable by its old text until its new text is in.
CREATE TABLE chunks (
  id                  bigserial PRIMARY KEY,
  chunk_key           text NOT NULL UNIQUE,
  cleaned_document_id bigint NOT NULL REFERENCES cleaned_documents (id) ON DELETE CASCADE,
  document_id         bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  chunker             text NOT NULL,
  kind                text NOT NULL CHECK (kind IN ('article', 'post', 'code')),
  position            integer NOT NULL,
  start_offset        integer NOT NULL,
  end_offset          integer NOT NULL,
  content             text NOT NULL,
  tsv                 tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  is_current          boolean NOT NULL DEFAULT true,
  step_run_id         bigint REFERENCES step_runs (id),
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chunks_current ON chunks (document_id) WHERE is_current;
CREATE INDEX chunks_by_cleaned ON chunks (cleaned_document_id, chunker, position);
CREATE INDEX chunks_by_document ON chunks (document_id);
CREATE INDEX chunks_text_search ON chunks USING GIN (tsv);

-- An embedding model version: the built-in TF-IDF + SVD model fitted on the
-- corpus (its file is an artifact blob named by model_sha256), or a remote
-- model (provider 'openai'). The latest version of a name is the current one.
CREATE TABLE embedding_models (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL,
  version      integer NOT NULL CHECK (version >= 1),
  provider     text NOT NULL CHECK (provider IN ('builtin', 'openai')),
  dimension    integer NOT NULL CHECK (dimension BETWEEN 1 AND 16000),
  model_sha256 text,  -- builtin: the content hash of the model file in the artifact store
  settings     jsonb NOT NULL DEFAULT '{}',
  step_run_id  bigint REFERENCES step_runs (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (name, version),
  UNIQUE (id, dimension)  -- target of embeddings' (model_id, dimension) foreign key
);

-- The Euclidean norm of a vector, for the unit-length check below.
CREATE FUNCTION twinflow_vector_norm(v real[]) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT sqrt(coalesce(sum(x::double precision * x), 0)) FROM unnest(v) AS x
$$;

-- One vector per chunk and model version. The foreign key on (model_id,
-- dimension) ties the stored dimension to the model's, and the checks make the
-- array one-dimensional, of that length, and unit length (or all zeros: a
-- text with no term the model knows).
CREATE TABLE embeddings (
  chunk_id    bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
  model_id    bigint NOT NULL,
  dimension   integer NOT NULL,
  vector      real[] NOT NULL,
  step_run_id bigint REFERENCES step_runs (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, chunk_id),
  FOREIGN KEY (model_id, dimension) REFERENCES embedding_models (id, dimension),
  CHECK (array_ndims(vector) = 1 AND array_length(vector, 1) = dimension),
  CHECK (abs(twinflow_vector_norm(vector) - 1) < 1e-3 OR twinflow_vector_norm(vector) = 0)
);

-- Records one fetched document in one round trip: a new document is version
-- 1; content that differs from the latest version becomes the next version
-- (the old one stays, no longer latest); unchanged content refreshes the
-- validators and checked_at. Returns the latest row's id, its version and
-- what happened ('new', 'changed', 'unchanged'). Concurrent writers of the
-- same (author, url) serialise on the row lock of the latest version.
CREATE FUNCTION twinflow_upsert_document(d jsonb, p_step_run_id bigint)
RETURNS TABLE (document_id bigint, document_version integer, change text)
LANGUAGE plpgsql AS $$
DECLARE
  latest documents%ROWTYPE;
BEGIN
  SELECT * INTO latest FROM documents
   WHERE author = d->>'author' AND url = d->>'url' AND is_latest FOR UPDATE;
  IF FOUND AND latest.content_sha256 = d->>'content_sha256' AND latest.title = d->>'title' THEN
    UPDATE documents SET checked_at = now(), etag = d->>'etag', last_modified = d->>'last_modified'
     WHERE id = latest.id;
    RETURN QUERY SELECT latest.id, latest.version, 'unchanged'::text;
    RETURN;
  END IF;
  IF FOUND THEN
    UPDATE documents SET is_latest = false WHERE id = latest.id;
  END IF;
  RETURN QUERY
  INSERT INTO documents (author, platform, kind, url, version, title, subtitle, byline, published_at,
                         canonical_url, language, content, blocks, content_sha256, etag, last_modified,
                         step_run_id)
  VALUES (d->>'author', d->>'platform', d->>'kind', d->>'url', coalesce(latest.version, 0) + 1,
          d->>'title', d->>'subtitle', d->>'byline', (d->>'published_at')::timestamptz,
          d->>'canonical_url', d->>'language', d->>'content', d->'blocks', d->>'content_sha256',
          d->>'etag', d->>'last_modified', p_step_run_id)
  RETURNING id, version, CASE WHEN latest.id IS NULL THEN 'new' ELSE 'changed' END;
END
$$;
