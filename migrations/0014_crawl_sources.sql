-- Discovery state of the crawl step: the feeds, sitemaps and followed
-- listing pages it reads (crawl_sources), the HTTP validators of every file
-- it fetched for them, for conditional GET (crawl_source_files), and every
-- entry each source listed with the stamp (Atom <updated>, RSS <pubDate>,
-- sitemap <lastmod>) it had when last listed and when last crawled
-- (crawl_source_entries). An entry is crawled when it is new, its stamp
-- changed, or its last crawl failed (crawled_stamp IS DISTINCT FROM stamp).
-- store/store_sources.cc is the only C++ that reads or writes these tables.
CREATE TABLE crawl_sources (
  id                  bigserial PRIMARY KEY,
  author              text NOT NULL,
  kind                text NOT NULL CHECK (kind IN ('feed', 'sitemap', 'follow')),
  url                 text NOT NULL,  -- the feed, the root sitemap, or the first start page
  created_at          timestamptz NOT NULL DEFAULT now(),
  checked_at          timestamptz,
  last_status         text NOT NULL DEFAULT '',  -- ok, not_modified, truncated, failed
  last_reason         text NOT NULL DEFAULT '',
  last_discovered     integer NOT NULL DEFAULT 0,
  last_discovered_new integer NOT NULL DEFAULT 0,
  last_step_run_id    bigint REFERENCES step_runs (id),
  UNIQUE (author, kind, url)
);

CREATE TABLE crawl_source_files (
  source_id     bigint NOT NULL REFERENCES crawl_sources (id) ON DELETE CASCADE,
  url           text NOT NULL,
  etag          text NOT NULL DEFAULT '',
  last_modified text NOT NULL DEFAULT '',
  fetched_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, url)
);

CREATE TABLE crawl_source_entries (
  source_id     bigint NOT NULL REFERENCES crawl_sources (id) ON DELETE CASCADE,
  url           text NOT NULL,
  stamp         text NOT NULL DEFAULT '',  -- as last listed; '' when the source gives none
  crawled_stamp text,                      -- as last crawled successfully; NULL: never
  first_seen    timestamptz NOT NULL DEFAULT now(),
  last_seen     timestamptz NOT NULL DEFAULT now(),
  crawled_at    timestamptz,
  PRIMARY KEY (source_id, url)
);
CREATE INDEX crawl_source_entries_pending ON crawl_source_entries (source_id)
  WHERE crawled_stamp IS DISTINCT FROM stamp;
