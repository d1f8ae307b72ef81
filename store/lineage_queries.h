// Lineage reads beyond the artifact edges: which events a triggered run
// consumed, and (lineage_sources / lineage_of_url) how a model version
// reaches back to the documents it was made from, following the feature
// store's rows (every row names the attempt that wrote it), and forward from
// a URL to every chunk, dataset, model version and deployment it reached.
//
// Only the CLI (`twinflow show`, `twinflow lineage`) and the dashboard include
// this header; the JSON shapes are the API (docs/CLI.md, docs/DASHBOARD.md).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/trigger_records.h"

namespace twinflow {

class Store;

// A run's consumed events as the `events` array of `twinflow show RUN --json`
// and of the dashboard's run JSON: [{event_id, kind, created_at, consumed_at,
// artifact, version, artifact_version_id | document_id, document_version,
// platform, url, producer_step_run_id, producer_run_id}].
nlohmann::json run_events_json(const std::vector<ConsumedEvent>& events);
// The same as text, a few lines; nothing when there are none.
void print_run_events(std::ostream& out, const std::vector<ConsumedEvent>& events);

}  // namespace twinflow

namespace twinflow {

// Where artifact version `artifact_version_id` (a model, say) comes from, down
// to the documents: {"versions": [upstream artifact versions, with the run,
// pipeline and step that made each], "datasets": [dataset versions upstream,
// with the time their step read the feature store, "sources_recorded" (the
// dataset's card) and "sources_found"], "documents": [{document_id, url,
// version, platform, kind, title, content_sha256, fetched_at, crawl: {step_run_id,
// run_id, pipeline, step, attempt}, cleaned_document_id, clean: {step_run_id,
// run_id, pipeline}, datasets: [artifact version ids]}], "urls": N}.
//
// Artifact edges lead from the version up to the dataset versions (across
// DAGs: an `artifact:` input is an edge too). A dataset step reads the
// feature store, not a file: its sources are the author's document versions
// that were the latest, and cleaned, when its attempt started, which the
// feature store's rows answer exactly (every document version and cleaned
// document keeps when it was written and the attempt that wrote it; a changed
// page is a new version, the old one kept).
nlohmann::json lineage_sources_json(Store& store, int64_t artifact_version_id);

// Where a URL went: {"url", "documents": [one per version: {document_id,
// version, fetched_at, content_sha256, crawl: {...}, cleaned: [{cleaned_document_id,
// cleaner, step_run_id}], chunks: [{chunk_id, position, kind, is_current,
// step_run_id, embeddings}], datasets: [{artifact_version_id, artifact, version}],
// versions: [every artifact version downstream of those datasets], models:
// [{model, version, stage, artifact_version_id}], deployments: [{model, version,
// to_stage, changed_at, actor, step_run_id}]}]}. Empty "documents" when no
// document has this URL.
nlohmann::json url_lineage_json(Store& store, const std::string& url);

}  // namespace twinflow
