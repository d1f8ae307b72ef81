// Store: metrics streamed by steps (loss curves, counts, scores).
#include <cmath>
#include <cstdio>

#include "store/run_ledger.h"
#include "store/store_impl.h"

namespace twinflow {
namespace {

// Full precision, and PostgreSQL's spelling of the special values.
std::string float8_literal(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

}  // namespace

void RunLedger::record_metrics(int64_t step_run_id, const std::vector<MetricPoint>& points) {
  return impl_->durable("record_metrics", [&]() -> void {
    if (points.empty()) return;
    std::vector<std::string> keys;
    std::string values = "{", steps = "{";
    for (size_t i = 0; i < points.size(); ++i) {
      keys.push_back(points[i].key);
      if (i) values += ",", steps += ",";
      values += float8_literal(points[i].value);
      steps += points[i].step ? std::to_string(*points[i].step) : "NULL";
    }
    pqxx::nontransaction tx(impl_->connection);  // one statement: its own transaction
    tx.exec_params(
        "INSERT INTO metrics (step_run_id, key, value, step) "
        "SELECT $1, k, v, s FROM unnest($2::text[], $3::float8[], $4::bigint[]) AS u(k, v, s)",
        step_run_id, to_pg_text_array(keys), values + "}", steps + "}");
  });
}

std::vector<MetricRecord> RunLedger::metrics_of_run(int64_t run_id) {
  pqxx::nontransaction tx(impl_->connection);
  std::vector<MetricRecord> out;
  for (const auto& row : tx.exec_params(
           "SELECT m.step_run_id, m.key, m.value, m.step, m.recorded_at::text FROM metrics m "
           "JOIN step_runs s ON s.id = m.step_run_id WHERE s.run_id = $1 ORDER BY m.id",
           run_id))
    out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<double>(),
                   optional_field<int64_t>(row[3]), row[4].as<std::string>()});
  return out;
}

}  // namespace twinflow
