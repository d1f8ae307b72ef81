// Keyset paging of every list of the dashboard's API, over real HTTP against
// the real `twinflow web`: runs, prompts and documents (ids, newest first:
// ?before= goes on to older rows, ?after= back to newer ones) and artifacts
// and models (names A to Z: ?after= on, ?before= back), and an artifact's
// versions (by version number, newest first, like ids). Walking forward and
// then back from the last page gives every row once, in order, and the
// boundaries are exact: no "next" link on the last page (even when it is
// full), none back from the first, empty pages past the ends.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "store/dashboard_queries.h"
#include "tests/support/committed_sql.h"
#include "tests/web_test_support.h"

namespace twinflow {
namespace {

using Json = nlohmann::json;

class WebPagingTest : public TwinflowTest {
 protected:
  void start() {
    web_ = std::make_unique<WebProcess>(twinflow_env(), home / "web.log", "");
    ASSERT_FALSE(web_->url().empty()) << read_file(home / "web.log");
  }
  Json get_json(const std::string& path, long expect = 200) {
    WebReply r = web_request("GET", web_->url() + path);
    EXPECT_EQ(r.status, expect) << path << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  void sql(const std::string& statement) { exec_committed(conninfo, statement); }
  std::unique_ptr<WebProcess> web_;
};

// One list: where it is, the member holding its rows, the key of a row, and
// whether it is ordered by id (newest first) or by name.
struct List {
  std::string path, member, key;
  bool by_id;
};

std::string cursor_text(const Json& cursor) {
  return cursor.is_string() ? cursor.get<std::string>() : cursor.dump();
}

TEST_F(WebPagingTest, EveryListPagesByKeysetBothWaysWithExactEnds) {
  // Six of each: with pages of 3 the last page is full, the case where a
  // "next" link would lead to an empty page if it were guessed from the size.
  NewRun run;
  run.pipeline = "paged";
  run.dag_file = "dags/paged.yaml";
  run.dag_content = "name: paged\nsteps:\n  - id: a\n    command: 'true'\n";
  run.dag_hash = "paged-snapshot";
  run.step_ids = {"a"};
  DashboardQueries(*store).seed_synthetic_runs(run, 6);
  sql("INSERT INTO prompt_logs (query, k, status) SELECT 'q' || g, 3, 200 "
      "FROM generate_series(1, 6) g");
  sql("INSERT INTO documents (author, platform, kind, url, version, is_latest, title, content, "
      "content_sha256) SELECT 'a', 'web', 'article', 'https://example.invalid/' || g, 1, true, "
      "'t' || g, 'text', md5(g::text) FROM generate_series(1, 6) g");
  // A version that is no longer the latest: not in the list.
  sql("INSERT INTO documents (author, platform, kind, url, version, is_latest, title, content, "
      "content_sha256) VALUES ('a', 'web', 'article', 'https://example.invalid/gone', 1, false, "
      "'old', 'text', 'x')");
  sql("INSERT INTO artifacts (name, type) SELECT 'art-' || g, 'file' FROM generate_series(1, 6) g");
  sql("INSERT INTO models (name) SELECT 'model-' || g FROM generate_series(1, 6) g");
  // Six versions of one artifact: its versions page by version number, like ids.
  sql("INSERT INTO artifact_versions (artifact_id, version, content_hash, uri, size_bytes) "
      "SELECT a.id, g, md5(g::text), '/nowhere/' || g, g FROM artifacts a, "
      "generate_series(1, 6) g WHERE a.name = 'art-1'");
  start();

  for (const List& list :
       {List{"/api/v1/runs", "runs", "id", true}, List{"/api/v1/prompts", "prompts", "id", true},
        List{"/api/v1/documents", "documents", "id", true},
        List{"/api/v1/artifacts", "artifacts", "name", false},
        List{"/api/v1/models", "models", "name", false},
        List{"/api/v1/artifacts/art-1/versions", "versions", "version", true}}) {
    SCOPED_TRACE(list.path);
    const std::string on = list.by_id ? "before" : "after", back = list.by_id ? "after" : "before";
    const std::string next = "next_" + on, prev = "prev_" + back;
    // Everything in one page: the order every walk must reproduce.
    const Json all = get_json(list.path + "?limit=100")[list.member];
    ASSERT_EQ(all.size(), 6u) << all.dump();
    std::vector<std::string> expected;
    for (const Json& row : all) expected.push_back(cursor_text(row[list.key]));
    for (size_t i = 1; i < expected.size(); ++i)
      EXPECT_TRUE(list.by_id ? std::stoll(expected[i]) < std::stoll(expected[i - 1])
                             : expected[i] > expected[i - 1]);

    // Forward, three at a time: two full pages, then no link.
    std::vector<std::string> forward;
    Json page = get_json(list.path + "?limit=3");
    EXPECT_TRUE(page[prev].is_null()) << "the first page has nothing before it";
    int pages = 0;
    for (;;) {
      ++pages;
      ASSERT_LE(pages, 5);
      for (const Json& row : page[list.member]) forward.push_back(cursor_text(row[list.key]));
      if (page[next].is_null()) break;
      EXPECT_EQ(cursor_text(page[next]), forward.back());
      page = get_json(list.path + "?limit=3&" + on + "=" + cursor_text(page[next]));
      EXPECT_FALSE(page[prev].is_null()) << "a later page links back";
    }
    EXPECT_EQ(forward, expected);
    EXPECT_EQ(pages, 2) << "a full last page has no link to an empty one";

    // Back from the last page: the rows just before it, then nothing.
    std::vector<std::string> backward(forward.end() - 3, forward.end());
    page = get_json(list.path + "?limit=3&" + on + "=" + forward[2]);
    ASSERT_FALSE(page[prev].is_null());
    Json earlier = get_json(list.path + "?limit=3&" + back + "=" + cursor_text(page[prev]));
    ASSERT_EQ(earlier[list.member].size(), 3u) << earlier.dump();
    std::vector<std::string> rows;
    for (const Json& row : earlier[list.member]) rows.push_back(cursor_text(row[list.key]));
    backward.insert(backward.begin(), rows.begin(), rows.end());
    EXPECT_EQ(backward, expected) << "a backward page comes in the list's order";
    EXPECT_TRUE(earlier[prev].is_null()) << "back at the start: no link further back";
    EXPECT_EQ(cursor_text(earlier[next]), expected[2]);

    // A backward page near the start holds fewer rows and still no back link.
    Json partial = get_json(list.path + "?limit=3&" + back + "=" + expected[2]);
    ASSERT_EQ(partial[list.member].size(), 2u) << partial.dump();
    EXPECT_EQ(cursor_text(partial[list.member][0][list.key]), expected[0]);
    EXPECT_TRUE(partial[prev].is_null());
    // Past either end: an empty page without links onward.
    Json past = get_json(list.path + "?limit=3&" + on + "=" + expected.back());
    EXPECT_TRUE(past[list.member].empty());
    EXPECT_TRUE(past[next].is_null());
    Json before_start = get_json(list.path + "?limit=3&" + back + "=" + expected.front());
    EXPECT_TRUE(before_start[list.member].empty());
    EXPECT_TRUE(before_start[prev].is_null());
    // Both ways at once is refused with a reason.
    EXPECT_TRUE(get_json(list.path + "?before=" + expected[1] + "&after=" + expected[2], 400)
                    .contains("error"));
  }
  // An id cursor is a positive integer.
  for (const char* path : {"/api/v1/prompts?before=abc", "/api/v1/documents?after=-1",
                           "/api/v1/runs?after=1x", "/api/v1/prompts?limit=0"})
    EXPECT_EQ(web_request("GET", web_->url() + path).status, 400) << path;
}

}  // namespace
}  // namespace twinflow
