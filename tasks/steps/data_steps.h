// The built-in data steps of the LLM-twin feature pipeline, each run inside a
// `twinflow step TYPE` process (see step_dispatch.h):
//
//   crawl  fetch an author's pages and repositories into documents
//   clean  documents -> cleaned documents (tasks/text/clean.h)
//   chunk  cleaned documents -> current chunks (tasks/text/chunk.h)
//   embed  current chunks -> vectors of the current embedding model
//
// Each is incremental: it works only on what is new or changed since its last
// run, and its manifest output describes the state it left (so an unchanged
// corpus gives an unchanged manifest, hence no new artifact version and no
// downstream trigger). docs/STEPS.md lists their params, outputs and metrics.
#pragma once

#include <string>

#include "store/feature_records.h"
#include "store/feature_store.h"
#include "store/model_registry.h"
#include "tasks/step_context.h"
#include "tasks/text/text_kind.h"

namespace twinflow {

struct StepEnvironment {
  const StepContext& context;
  FeatureStore features;  // all of the store a data step sees
  ModelRegistry models;   // the training steps register and promote models
  StepReport& report;
  int64_t step_run_id = 0;  // the attempt's step_runs row; 0 when run by hand
};

// Each returns the process exit code (0 = success) and throws Error on
// invalid params or when the database refuses.
int run_crawl_step(StepEnvironment& env);
int run_clean_step(StepEnvironment& env);
int run_chunk_step(StepEnvironment& env);
int run_embed_step(StepEnvironment& env);
// Documents from an author's data exports (tasks/imports/importers.h).
int run_import_step(StepEnvironment& env);

// How a document's text is treated: articles and posts as prose; repository
// files as code, except Markdown, reStructuredText and plain text, which are
// prose (a README reads like an article).
TextKind text_kind_of(const std::string& document_kind, const std::string& url);
// Names a cleaning configuration: cleaned documents are kept per fingerprint,
// so a change of options (or of the cleaner's version) cleans everything again.
struct CleanOptions;
std::string cleaner_fingerprint(const CleanOptions& options);
// The chunk kind stored for a TextKind: "article", "post" or "code".
const char* chunk_kind_name(TextKind kind);

}  // namespace twinflow
