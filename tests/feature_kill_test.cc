// The data steps (clean, chunk, embed) write in batches, one transaction per
// batch: a step killed with SIGKILL in the middle of a corpus and run again
// must leave exactly what one uninterrupted run leaves, with nothing lost and
// nothing doubled. Each step runs as the real `twinflow step TYPE` process
// against the real PostgreSQL; the same corpus under a second author, run
// without interruption, is the reference.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "tests/support/twinflow_fixture.h"
#include "util/sha256.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

constexpr int kDocuments = 1500;

// Paragraphs of pseudo-words, different for every document.
std::string document_text(int i) {
  static const char* const kWords[] = {"river",  "stone",  "lantern", "orbit",  "maple",
                                       "signal", "quartz", "harbor",  "velvet", "ember",
                                       "cobalt", "meadow", "prism",   "tundra", "glacier"};
  std::string text;
  uint64_t x = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(i + 1);
  const int paragraphs = 2 + i % 5;
  for (int p = 0; p < paragraphs; ++p) {
    for (int w = 0; w < 60 + (i * 7 + p) % 90; ++w) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      text += kWords[x % 15];
      text += (w % 11 == 10) ? ". " : " ";
    }
    text += "\n\n";
  }
  return text;
}

class FeatureKillTest : public TwinflowTest {
 protected:
  void SetUp() override {
    TwinflowTest::SetUp();
    db_ = std::make_unique<pqxx::connection>(conninfo);
    for (const std::string author : {"killed", "whole"}) {
      pqxx::work tx(*db_);
      pqxx::stream_to copy(tx, "documents",
                           std::vector<std::string>{"author", "platform", "kind", "url", "version",
                                                    "title", "content", "content_sha256"});
      for (int i = 0; i < kDocuments; ++i) {
        const std::string text = document_text(i);
        copy << std::make_tuple(author, "medium", i % 3 ? "article" : "post",
                                "https://example.com/" + author + "/" + std::to_string(i), 1,
                                "Title " + std::to_string(i), text, sha256_hex(text));
      }
      copy.complete();
      tx.commit();
    }
  }

  fs::path context(const std::string& type, const nlohmann::json& params) {
    const fs::path dir = home / "steps" / (type + "-" + std::to_string(++contexts_));
    fs::create_directories(dir);
    const nlohmann::json c = {{"step_type", type},     {"step_id", type},
                              {"params", params},      {"output_dir", dir.string()},
                              {"home", home.string()}, {"database_url", conninfo}};
    std::ofstream(dir / "context.json") << c.dump();
    return dir / "context.json";
  }

  void run_step(const std::string& type, const nlohmann::json& params) {
    CommandResult r = twinflow({"step", type, "--context", context(type, params).string()});
    ASSERT_EQ(r.exit_code, 0) << type << ": " << r.out << r.err;
  }

  int64_t count(const std::string& sql) {
    return pqxx::nontransaction(*db_).exec1(sql)[0].as<int64_t>();
  }

  // Starts the step, kills it with SIGKILL as soon as `progress_sql` counts
  // one committed row, and returns that count as it stands after the kill.
  int64_t kill_midway(const std::string& type, const nlohmann::json& params,
                      const std::string& progress_sql) {
    const pid_t pid = spawn_twinflow({"step", type, "--context", context(type, params).string()},
                                     (home / (type + "-killed.log")).string());
    EXPECT_GT(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (count(progress_sql) == 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        ADD_FAILURE() << type << " ended before it wrote anything: "
                      << read_file(home / (type + "-killed.log"));
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status)) << type << " was not killed: it had already finished";
    return count(progress_sql);
  }

  std::unique_ptr<pqxx::connection> db_;
  int contexts_ = 0;
};

// Rows of the two authors that differ: `select` lists (url tail, value) of
// one author, given as $AUTHOR.
int64_t differences(pqxx::connection& db, const std::string& select) {
  auto of = [&](const std::string& author) {
    std::string s = select;
    s.replace(s.find("$AUTHOR"), 7, "'" + author + "'");
    return s;
  };
  return pqxx::nontransaction(db)
      .exec1("SELECT count(*) FROM ((" + of("killed") + " EXCEPT ALL " + of("whole") +
             ") UNION ALL (" + of("whole") + " EXCEPT ALL " + of("killed") + ")) AS x")[0]
      .as<int64_t>();
}

TEST_F(FeatureKillTest, EachStepKilledMidwayAndRunAgainLosesAndDoublesNothing) {
  const std::string tail = "split_part(d.url, '/', 5)";

  // clean
  run_step("clean", {{"author", "whole"}});
  const int64_t cleaned_at_kill = kill_midway(
      "clean", {{"author", "killed"}, {"batch_documents", 5}},
      "SELECT count(*) FROM cleaned_documents k JOIN documents d ON d.id = k.document_id "
      "WHERE d.author = 'killed'");
  EXPECT_GT(cleaned_at_kill, 0);
  EXPECT_LT(cleaned_at_kill, kDocuments);
  run_step("clean", {{"author", "killed"}, {"batch_documents", 5}});
  EXPECT_EQ(differences(*db_, "SELECT " + tail +
                                  ", k.content_sha256 FROM cleaned_documents k JOIN documents d "
                                  "ON d.id = k.document_id WHERE d.author = $AUTHOR"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM cleaned_documents k JOIN documents d ON d.id = "
                  "k.document_id WHERE d.author = 'killed'"),
            kDocuments);

  // chunk
  run_step("chunk", {{"author", "whole"}});
  const std::string chunks_of_killed =
      "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
      "WHERE d.author = 'killed' AND c.is_current";
  const int64_t chunks_whole = count(
      "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
      "WHERE d.author = 'whole' AND c.is_current");
  const int64_t chunked_at_kill =
      kill_midway("chunk", {{"author", "killed"}, {"batch_documents", 5}}, chunks_of_killed);
  EXPECT_GT(chunked_at_kill, 0);
  EXPECT_LT(chunked_at_kill, chunks_whole);
  run_step("chunk", {{"author", "killed"}, {"batch_documents", 5}});
  EXPECT_EQ(count(chunks_of_killed), chunks_whole);
  EXPECT_EQ(differences(*db_, "SELECT " + tail +
                                  ", c.position, c.start_offset, c.end_offset, c.content, "
                                  "c.is_current FROM chunks c JOIN documents d "
                                  "ON d.id = c.document_id WHERE d.author = $AUTHOR"),
            0);
  // The BM25 statistics (kept per batch, migrations 0012 and 0020) count the
  // committed chunks exactly: the killed author's equal the whole one's.
  EXPECT_EQ(count("SELECT count(*) FROM bm25_chunks b JOIN bm25_scopes s ON s.id = b.scope_id "
                  "WHERE s.author = 'killed'"),
            chunks_whole);
  EXPECT_EQ(differences(*db_,
                        "SELECT t.lexeme, s.platform, s.kind, t.chunks FROM bm25_terms t "
                        "JOIN bm25_scopes s ON s.id = t.scope_id WHERE s.author = $AUTHOR"),
            0);
  EXPECT_EQ(differences(*db_,
                        "SELECT p.lexeme, s.kind, p.body_tf, p.title_tf, p.body_length, "
                        "p.title_length FROM bm25_postings p JOIN bm25_scopes s "
                        "ON s.id = p.scope_id WHERE s.author = $AUTHOR"),
            0);

  // embed (the model is fitted on the whole author's chunks, then reused)
  run_step("embed", {{"author", "whole"}, {"model", "kill-model"}, {"dimension", 16}});
  const std::string vectors_of_killed =
      "SELECT count(*) FROM embeddings e JOIN chunks c ON c.id = e.chunk_id "
      "JOIN documents d ON d.id = c.document_id WHERE d.author = 'killed'";
  const int64_t embedded_at_kill = kill_midway(
      "embed",
      {{"author", "killed"}, {"model", "kill-model"}, {"dimension", 16}, {"batch_chunks", 20}},
      vectors_of_killed);
  EXPECT_GT(embedded_at_kill, 0);
  EXPECT_LT(embedded_at_kill, chunks_whole);
  run_step(
      "embed",
      {{"author", "killed"}, {"model", "kill-model"}, {"dimension", 16}, {"batch_chunks", 20}});
  EXPECT_EQ(count(vectors_of_killed), chunks_whole);
  EXPECT_EQ(differences(*db_, "SELECT " + tail +
                                  ", c.position, e.vector::text FROM embeddings e JOIN chunks c "
                                  "ON c.id = e.chunk_id JOIN documents d ON d.id = c.document_id "
                                  "WHERE d.author = $AUTHOR"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM embedding_models WHERE name = 'kill-model'"), 1);
}

TEST_F(FeatureKillTest, ABadBatchSizeIsOneClearError) {
  CommandResult r =
      twinflow({"step", "clean", "--context",
                context("clean", {{"author", "killed"}, {"batch_documents", 0}}).string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("batch_documents"), std::string::npos) << r.err;
  EXPECT_EQ(count("SELECT count(*) FROM cleaned_documents"), 0);
}

}  // namespace
}  // namespace twinflow
