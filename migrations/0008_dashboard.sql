-- Indexes for the web dashboard (`twinflow web`, store/dashboard_queries.cc):
-- the runs list filtered by trigger pages by id like the other filters do,
-- and the lineage graph finds the documents a crawl attempt wrote.
CREATE INDEX runs_by_trigger ON runs (trigger, id DESC);
CREATE INDEX documents_by_step_run ON documents (step_run_id) WHERE step_run_id IS NOT NULL;
