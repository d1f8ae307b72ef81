// OpenAiEmbedder on openai_http's send_posts() (tasks/llm/openai_http.h),
// which sends, retries and quotes errors as it does for OpenAiChat. One embed()
// is one EmbedRun: it splits the texts into batches, builds each batch's body,
// and checks and stores the vectors of each response. The first batch that
// fails for good throws; send_posts() then abandons the transfers in flight.
#include "tasks/embed/openai_embedder.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include <nlohmann/json.hpp>

#include "tasks/llm/openai_http.h"
#include "util/error.h"

namespace twinflow {

namespace {

using namespace openai_http;
using Json = nlohmann::json;

constexpr const char* kClient = "OpenAiEmbedder";
// A response beyond this is a broken server, not embeddings: 2048 texts of
// 3072 floats written out as JSON come to about 130 MB.
constexpr size_t kMaxEmbeddingResponseBytes = size_t{512} << 20;

// The request body of texts [first, first + count).
std::string embed_body(const OpenAiEmbedderOptions& options,
                       const std::vector<std::string_view>& texts, size_t first, size_t count) {
  Json input = Json::array();
  for (size_t i = first; i < first + count; ++i) input.emplace_back(std::string(texts[i]));
  Json body = {{"model", options.model}, {"input", std::move(input)}};
  if (options.dimensions > 0) body["dimensions"] = options.dimensions;
  // Replace, not throw: one chunk with a stray Latin-1 byte must not fail a
  // run.
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void check_options(const OpenAiEmbedderOptions& options) {
  const auto fail = [](const std::string& what) {
    throw Error(std::string(kClient) + ": " + what);
  };
  check_base_url(kClient, options.base_url);
  if (options.model.empty()) fail("model must not be empty");
  if (options.dimensions < 0) fail("dimensions must not be negative");
  if (options.batch_size < 1) fail("batch_size must be at least 1");
}

// What outlives one embed(): the options, the policy drawn from them, the
// endpoint (key, headers, connection cache) and the dimension seen so far.
struct EmbedderState {
  explicit EmbedderState(OpenAiEmbedderOptions opts)
      : options((check_options(opts), std::move(opts))),
        policy(checked_policy(kClient, options, kMaxEmbeddingResponseBytes)),
        endpoint(kClient, options.base_url, "/embeddings", options.api_key_env),
        dimension(options.dimensions) {}

  OpenAiEmbedderOptions options;
  PostPolicy policy;
  Endpoint endpoint;
  int dimension = 0;
};

// `embedding`, checked and scaled to unit length, into `row` (one float per
// number). `text` is the text's index, for messages.
void normalise_into(const Json& embedding, size_t text, float* row) {
  double sum = 0;
  for (const Json& number : embedding) {
    if (!number.is_number()) {
      throw Error("embedding of text " + std::to_string(text) + " holds a non-number (" +
                  std::string(number.type_name()) + ")");
    }
    const double value = number.get<double>();
    sum += value * value;
  }
  const double norm = std::sqrt(sum);
  if (!std::isfinite(norm)) {
    throw Error("embedding of text " + std::to_string(text) + " has a non-finite norm");
  }
  if (norm == 0) throw Error("embedding of text " + std::to_string(text) + " is all zeros");
  for (const Json& number : embedding) *row++ = static_cast<float>(number.get<double>() / norm);
}

// The "data" entry's "index", checked to be in [0, count) and not seen before.
size_t entry_index(const Json& entry, size_t position, std::vector<bool>& seen) {
  const std::string where = "data[" + std::to_string(position) + "]";
  if (!entry.is_object()) throw Error(where + " is not an object");
  const auto index = entry.find("index");
  if (index == entry.end() || !index->is_number_integer()) {
    throw Error(where + " has no integer \"index\"");
  }
  const long long value = index->get<long long>();
  if (value < 0 || static_cast<size_t>(value) >= seen.size()) {
    throw Error(where + " has index " + std::to_string(value) + ", outside 0.." +
                std::to_string(seen.size() - 1));
  }
  if (seen[value]) throw Error(where + " repeats index " + std::to_string(value));
  seen[value] = true;
  return static_cast<size_t>(value);
}

// The batch's vectors from a 2xx response: count * dimension floats, unit
// length, in text order. `dimension` is what they must have (0: not known
// yet, then it is set from this response); `first` is the batch's first text.
std::vector<float> read_embeddings(const std::string& body, size_t first, size_t count,
                                   int& dimension, bool dimension_from_option) {
  const Json response = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) throw Error("response is not valid JSON");
  if (!response.is_object() || !response.contains("data") || !response["data"].is_array()) {
    throw Error("response has no \"data\" array");
  }
  const Json& data = response["data"];
  if (data.size() != count) {
    throw Error("\"data\" has " + std::to_string(data.size()) + " entries for " +
                std::to_string(count) + " texts");
  }
  std::vector<bool> seen(count);
  std::vector<float> rows;
  for (size_t position = 0; position < count; ++position) {
    const size_t index = entry_index(data[position], position, seen);
    const size_t text = first + index;
    const auto embedding = data[position].find("embedding");
    if (embedding == data[position].end() || !embedding->is_array() || embedding->empty()) {
      // A string here is base64 (encoding_format), which we never ask for.
      throw Error("embedding of text " + std::to_string(text) + " is not an array of numbers");
    }
    if (dimension == 0) dimension = static_cast<int>(embedding->size());
    if (embedding->size() != static_cast<size_t>(dimension)) {
      throw Error("embedding of text " + std::to_string(text) + " has " +
                  std::to_string(embedding->size()) + " numbers, expected " +
                  std::to_string(dimension) +
                  (dimension_from_option ? " (the dimensions option)" : " like the others"));
    }
    rows.resize(count * dimension);
    normalise_into(*embedding, text, rows.data() + index * dimension);
  }
  return rows;
}

// One embed(): the texts in batches, a request each, and the vectors they
// came back with.
class EmbedRun final : public PostHandler {
 public:
  EmbedRun(EmbedderState& state, const std::vector<std::string_view>& texts)
      : state_(state), options_(state.options), texts_(texts) {
    for (size_t first = 0; first < texts.size(); first += options_.batch_size) {
      batches_.push_back({first, std::min(options_.batch_size, texts.size() - first)});
    }
  }

  std::vector<float> run() {
    std::vector<size_t> ids(batches_.size());
    std::iota(ids.begin(), ids.end(), size_t{0});
    send_posts(state_.endpoint, state_.policy, ids, *this);
    return std::move(out_);
  }

 private:
  struct Batch {
    size_t first;  // index of the batch's first text
    size_t count;
  };

  std::string request_body(size_t id) override {
    return embed_body(options_, texts_, batches_[id].first, batches_[id].count);
  }

  void succeeded(size_t id, const std::string& body, int) override { store(batches_[id], body); }

  void failed(size_t id, const std::string& problem, int) override {
    throw Error(where(batches_[id]) + ": " + problem);
  }

  // "OpenAiEmbedder: texts 3..5 (batch 2 of 4), POST http://host/v1/embeddings"
  std::string where(const Batch& batch) const {
    return std::string(kClient) + ": texts " + std::to_string(batch.first) + ".." +
           std::to_string(batch.first + batch.count - 1) + " (batch " +
           std::to_string(batch.first / options_.batch_size + 1) + " of " +
           std::to_string(batches_.size()) + "), POST " + state_.endpoint.url;
  }

  // Checks a 2xx response and copies its vectors into place. The dimension
  // is only learned from a response that passed every check.
  void store(const Batch& batch, const std::string& body) {
    int dimension = state_.dimension;
    std::vector<float> rows;
    try {
      rows = read_embeddings(body, batch.first, batch.count, dimension, options_.dimensions > 0);
    } catch (const Error& e) {
      throw Error(where(batch) + ": " + e.what() +
                  "; body: " + excerpt(body, state_.endpoint.api_key));
    }
    state_.dimension = dimension;
    out_.resize(texts_.size() * dimension);  // a no-op after the first batch
    std::copy(rows.begin(), rows.end(), out_.begin() + batch.first * dimension);
  }

  EmbedderState& state_;
  const OpenAiEmbedderOptions& options_;
  const std::vector<std::string_view>& texts_;
  std::vector<Batch> batches_;
  std::vector<float> out_;
};

}  // namespace

struct OpenAiEmbedder::Impl {
  explicit Impl(OpenAiEmbedderOptions options) : state(std::move(options)) {}
  EmbedderState state;
};

OpenAiEmbedder::OpenAiEmbedder(OpenAiEmbedderOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

OpenAiEmbedder::~OpenAiEmbedder() = default;
OpenAiEmbedder::OpenAiEmbedder(OpenAiEmbedder&&) noexcept = default;
OpenAiEmbedder& OpenAiEmbedder::operator=(OpenAiEmbedder&&) noexcept = default;

std::vector<float> OpenAiEmbedder::embed(const std::vector<std::string_view>& texts) {
  if (texts.empty()) return {};
  return EmbedRun(impl_->state, texts).run();
}

int OpenAiEmbedder::dimension() const {
  return impl_->state.dimension;
}

}  // namespace twinflow
