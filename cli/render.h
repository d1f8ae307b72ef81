// Rendering records for people (tables) and for programs (JSON). Shared by
// the subcommands that show runs, steps, artifacts and lineage.
#pragma once

#include <iosfwd>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace twinflow {

class Store;

nlohmann::json to_json(const RunRecord& run);
nlohmann::json to_json(const RunStepRecord& step);
nlohmann::json to_json(const StepRunRecord& attempt);
nlohmann::json to_json(const ArtifactVersionRecord& version);

void print_runs_table(std::ostream& out, const std::vector<RunRecord>& runs);
// A run with its steps, attempts, outputs and metrics.
void print_run_details(std::ostream& out, Store& store, const RunRecord& run);
nlohmann::json run_details_json(Store& store, const RunRecord& run);

std::string format_seconds(double seconds);

}  // namespace twinflow
