// RagService: see rag_service.h.
#include "serve/rag_service.h"

#include <mutex>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/extractive_answer.h"
#include "serve/production_model.h"
#include "store/model_registry.h"
#include "store/reconnect.h"
#include "store/store.h"
#include "tasks/search/retriever.h"
#include "tasks/text/utf8.h"
#include "tasks/train/instruct_format.h"
#include "util/error.h"

namespace twinflow {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

HttpResponse json_response(int status, const Json& body) {
  return HttpResponse::text(status, body.dump()).header("Content-Type", "application/json");
}

// A request the client must fix: 400 with the reason.
struct BadRequest {
  std::string reason;
};

struct RagRequest {
  std::string query, author;
  int k = 5;
};

RagRequest parse_request(const std::string& body, const RagOptions& options) {
  Json doc = Json::parse(body, nullptr, false);
  if (!doc.is_object()) throw BadRequest{"the body must be a JSON object"};
  RagRequest r;
  if (!doc.contains("query") || !doc["query"].is_string())
    throw BadRequest{"'query' must be a string"};
  r.query = doc["query"].get<std::string>();
  if (r.query.find_first_not_of(" \t\r\n") == std::string::npos)
    throw BadRequest{"'query' is empty"};
  if (r.query.size() > options.max_query_bytes)
    throw BadRequest{"'query' is longer than " + std::to_string(options.max_query_bytes) +
                     " bytes"};
  if (!is_valid_utf8(r.query)) throw BadRequest{"'query' is not valid UTF-8"};
  r.k = options.default_k;
  if (doc.contains("k")) {
    if (!doc["k"].is_number_integer() || doc["k"].get<int64_t>() < 1 ||
        doc["k"].get<int64_t>() > options.max_k)
      throw BadRequest{"'k' must be an integer from 1 to " + std::to_string(options.max_k)};
    r.k = doc["k"].get<int>();
  }
  r.author = options.default_author;
  if (doc.contains("author")) {
    if (!doc["author"].is_string()) throw BadRequest{"'author' must be a string"};
    r.author = doc["author"].get<std::string>();
  }
  return r;
}

}  // namespace

// What one I/O thread needs for a request: neither is thread-safe.
struct Session {
  Session(const std::string& conninfo, const std::filesystem::path& artifacts,
          std::chrono::milliseconds recheck, std::shared_ptr<SharedVectors> vectors,
          std::shared_ptr<Bm25PostingsCache> postings)
      : store(conninfo),
        retriever(store.features(), artifacts, recheck, std::move(vectors), std::move(postings)) {}
  Store store;
  Retriever retriever;
};

struct RagService::Impl {
  Impl(std::string conninfo_, std::filesystem::path artifacts_, RagOptions options_)
      : conninfo(std::move(conninfo_)),
        artifacts(std::move(artifacts_)),
        options(std::move(options_)),
        model(
            [this]() -> std::optional<ModelVersionRecord> {
              return with_session([&](Session& s) -> std::optional<ModelVersionRecord> {
                return s.store.models().production_model(options.model_name);
              });
            },
            options.model_check_interval) {
    if (options.remote) chat_options = *options.remote;
  }

  std::string conninfo;
  std::filesystem::path artifacts;
  RagOptions options;
  std::optional<OpenAiChatOptions> chat_options;
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Session>> pool;  // idle sessions
  // One copy of the vectors for every session (1 GB at 1M × 256).
  std::shared_ptr<SharedVectors> vectors = std::make_shared<SharedVectors>();
  // One cache of text postings for every session, bounded (bm25_postings_cache.h).
  std::shared_ptr<Bm25PostingsCache> postings = std::make_shared<Bm25PostingsCache>();
  ProductionModel model;
  OutageLog outages{"twinflow serve"};

  // Runs `fn` with a session borrowed from the pool (made when none is idle).
  template <typename Fn>
  std::invoke_result_t<Fn, Session&> with_session(Fn fn) {
    std::unique_ptr<Session> session;
    {
      std::lock_guard lock(pool_mutex);
      if (!pool.empty()) {
        session = std::move(pool.back());
        pool.pop_back();
      }
    }
    if (!session)
      session = std::make_unique<Session>(conninfo, artifacts, options.vectors_check_interval,
                                          vectors, postings);
    auto give_back = [&] {
      std::lock_guard lock(pool_mutex);
      pool.push_back(std::move(session));
    };
    try {
      auto result = fn(*session);
      give_back();
      return result;
    } catch (...) {
      give_back();  // a failed query leaves the connection usable (autocommit)
      throw;
    }
  }

  // A request's search, with the server's options: warm_up() loads what it uses.
  SearchQuery search_query(const std::string& text, int k, const std::string& author) const {
    SearchQuery query;
    query.text = text;
    query.k = static_cast<size_t>(k);
    query.filter.author = author;
    query.model_name = options.embedding_model;
    query.expand = options.expand;
    query.exact = options.exact;
    return query;
  }
  HttpResponse rag(const HttpRequest& request);
  Json retrieve(const RagRequest& r, PromptLogEntry& entry,
                std::vector<ExtractivePassage>& passages);
  Json generate(PromptLogEntry& entry, const LoadedModel* loaded,
                const std::vector<ExtractivePassage>& passages);
  HttpResponse refuse(int status, const std::string& reason, PromptLogEntry& entry,
                      Clock::time_point start);
  HttpResponse health();
  void log(PromptLogEntry entry) {
    with_session([&](Session& s) { return s.store.models().log_prompt(entry); });
  }
};

// Retrieves the request's chunks: fills the entry's chunk ids and prompt,
// returns the sources as the response shows them.
Json RagService::Impl::retrieve(const RagRequest& r, PromptLogEntry& entry,
                                std::vector<ExtractivePassage>& extractive) {
  const SearchQuery query = search_query(r.query, r.k, r.author);
  auto hits = with_session([&](Session& s) { return s.retriever.search(query); });
  std::vector<std::string> passages;
  Json sources = Json::array();
  for (const auto& hit : hits) {
    entry.chunk_ids.push_back(hit.chunk.id);
    passages.push_back(hit.chunk.content);
    extractive.push_back(
        {static_cast<int>(passages.size()), hit.chunk.content, hit.chunk.kind == "code"});
    sources.push_back({{"chunk_id", hit.chunk.id},
                       {"document_id", hit.chunk.document_id},
                       {"url", hit.chunk.url},
                       {"title", hit.chunk.title},
                       {"platform", hit.chunk.platform},
                       {"score", hit.score},
                       {"text", hit.chunk.content}});
  }
  entry.prompt = build_prompt(r.author, r.query, passages, options.max_context_chars);
  return sources;
}

// Answers the entry's prompt with the remote server when configured, else
// with `loaded`; returns the model as the response names it.
Json RagService::Impl::generate(PromptLogEntry& entry, const LoadedModel* loaded,
                                const std::vector<ExtractivePassage>& passages) {
  if (chat_options) {
    OpenAiChat chat(*chat_options);
    ChatRequest request;
    request.messages = {{"user", entry.prompt}};
    auto result = chat.complete({request});
    if (!result[0].ok) throw Error("the generator failed: " + result[0].error);
    entry.answer = result[0].content;
    entry.generator = "openai";
    return {{"name", chat_options->model}, {"generator", "openai"}};
  }
  if (options.generator == RagGenerator::kExtractive) {
    entry.answer = extractive_answer(entry.query, passages).text;
    if (entry.answer.empty())
      entry.answer = "I have not written about that yet: nothing I wrote matches the question.";
    entry.generator = "extractive";
    return {{"name", "extractive"}, {"generator", "extractive"}};
  }
  entry.answer = response_only(loaded->model.generate(entry.prompt, options.generation));
  entry.generator = "builtin";
  entry.model_version_id = loaded->record.id;
  return {{"name", loaded->record.model},
          {"version", loaded->record.version},
          {"generator", "builtin"}};
}

// A request that gets no answer: logged with its status and reason.
HttpResponse RagService::Impl::refuse(int status, const std::string& reason, PromptLogEntry& entry,
                                      Clock::time_point start) {
  entry.status = status;
  entry.error = reason;
  entry.latency_ms = ms_since(start);
  try {
    log(entry);
  } catch (const std::exception&) {
    // The database itself may be what failed; the client still gets its answer.
  }
  return json_response(status, {{"error", reason}});
}

HttpResponse RagService::Impl::rag(const HttpRequest& request) {
  const auto start = Clock::now();
  PromptLogEntry entry;
  entry.model_name = options.model_name;
  entry.query = to_valid_utf8(request.body.substr(0, 200));  // until the query is read
  try {
    // Not a form: a page elsewhere cannot send JSON here without a CORS preflight.
    if (!is_json_content_type(request.header("content-type")))
      return refuse(415, "send the question as Content-Type: application/json", entry, start);
    RagRequest r = parse_request(request.body, options);
    entry.query = r.query;
    entry.author = r.author;
    entry.k = r.k;
    std::shared_ptr<const LoadedModel> loaded;
    if (!chat_options && options.generator == RagGenerator::kBuiltin && !(loaded = model.current()))
      return refuse(503,
                    "no version of model '" + options.model_name +
                        "' is in production; run dags/training.yaml or `twinflow models promote`",
                    entry, start);
    std::vector<ExtractivePassage> passages;
    Json sources = retrieve(r, entry, passages);
    entry.retrieval_ms = ms_since(start);
    const auto generation_start = Clock::now();
    Json model_json = generate(entry, loaded.get(), passages);
    entry.generation_ms = ms_since(generation_start);
    entry.latency_ms = ms_since(start);
    const int64_t id = with_session([&](Session& s) { return s.store.models().log_prompt(entry); });
    return json_response(200, {{"answer", entry.answer},
                               {"model", model_json},
                               {"sources", sources},
                               {"prompt_id", id},
                               {"timings_ms",
                                {{"retrieval", entry.retrieval_ms},
                                 {"generation", entry.generation_ms},
                                 {"total", entry.latency_ms}}}});
  } catch (const BadRequest& bad) {
    return refuse(400, bad.reason, entry, start);
  } catch (const std::exception& e) {
    if (!is_connection_loss(e)) return refuse(500, e.what(), entry, start);
    outages.report(e);
    return refuse(503, kDatabaseUnavailable, entry, start)
        .header("Retry-After", std::to_string(kRetryAfterSeconds));
  }
}

HttpResponse RagService::Impl::health() {
  Json body = {{"status", "ok"}, {"model", nullptr}};
  try {
    with_session([](Session& s) {
      s.store.ping();
      return true;
    });
  } catch (const std::exception& e) {
    if (!is_connection_loss(e)) throw;
    outages.report(e);
    return json_response(503, {{"status", "unavailable"}, {"error", kDatabaseUnavailable}})
        .header("Retry-After", std::to_string(kRetryAfterSeconds));
  }
  try {
    if (chat_options) {
      body["model"] = {{"name", chat_options->model}, {"generator", "openai"}};
    } else if (options.generator == RagGenerator::kExtractive) {
      body["model"] = {{"name", "extractive"}, {"generator", "extractive"}};
    } else if (auto loaded = model.current()) {
      body["model"] = {{"name", loaded->record.model},
                       {"version", loaded->record.version},
                       {"generator", "builtin"}};
    }
  } catch (const std::exception& e) {
    return json_response(503, {{"status", "error"}, {"error", std::string(e.what())}});
  }
  return json_response(200, body);
}

RagGenerator parse_rag_generator(const std::string& name) {
  if (name == "extractive") return RagGenerator::kExtractive;
  if (name == "builtin") return RagGenerator::kBuiltin;
  throw Error("unknown generator '" + name + "' (expected extractive or builtin)");
}

RagService::RagService(std::string conninfo, std::filesystem::path artifacts_root,
                       RagOptions options)
    : impl_(std::make_unique<Impl>(std::move(conninfo), std::move(artifacts_root),
                                   std::move(options))) {}

RagService::~RagService() = default;

std::string RagService::warm_up() {
  Impl& impl = *impl_;
  return impl.with_session([&](Session& s) -> std::string {
    const auto model = s.store.features().current_embedding_model(impl.options.embedding_model);
    if (!model) return "";
    // A vector search loads the model and the vectors every later one uses.
    SearchQuery query = impl.search_query("warm-up", 1, impl.options.default_author);
    query.mode = SearchMode::kVector;
    s.retriever.search(query);
    return model->name + " v" + std::to_string(model->version);
  });
}

size_t RagService::vector_loads() const {
  return impl_->vectors->loads();
}

HttpResponse RagService::handle(const HttpRequest& request) {
  if (request.path == "/rag") {
    if (request.method != "POST")
      return json_response(405, {{"error", "use POST"}}).header("Allow", "POST");
    return impl_->rag(request);
  }
  if (request.path == "/health") {
    if (request.method != "GET" && request.method != "HEAD")
      return json_response(405, {{"error", "use GET"}}).header("Allow", "GET");
    return impl_->health();
  }
  return json_response(404, {{"error", "not found; try POST /rag or GET /health"}});
}

std::string RagService::build_prompt(const std::string& author, const std::string& query,
                                     const std::vector<std::string>& passages,
                                     size_t max_context_chars) {
  std::string instruction = "You are the digital twin of " +
                            (author.empty() ? std::string("the author") : author) +
                            ". Answer the question in their voice, using the context.\n\n"
                            "Context:\n";
  size_t used = 0;
  for (size_t i = 0; i < passages.size() && used < max_context_chars; ++i) {
    std::string passage = passages[i].substr(0, max_context_chars - used);
    used += passage.size();
    instruction += "[" + std::to_string(i + 1) + "] " + to_valid_utf8(passage) + "\n";
  }
  instruction += "\nQuestion: " + query;
  return instruct_prompt(instruction);
}

}  // namespace twinflow
