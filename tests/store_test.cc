// The store's foundations against a real PostgreSQL: migrations (order,
// checksums, concurrent migrators) and the content-addressed blob store.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "store/blob_store.h"
#include "store/migrations.h"
#include "store/store.h"
#include "tests/support/test_database.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

std::vector<MigrationSource> two_migrations() {
  return {{"0001_a.sql", "CREATE TABLE a (x int);"}, {"0002_b.sql", "CREATE TABLE b (y int);"}};
}

TEST(MigratorTest, AppliesInOrderOnceAndReportsStatus) {
  pqxx::connection connection(fresh_test_database());
  Migrator migrator(connection, two_migrations());
  EXPECT_EQ(migrator.migrate(), 2);
  EXPECT_EQ(migrator.migrate(), 0);
  auto states = migrator.status();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_TRUE(states[0].applied);
  EXPECT_EQ(states[1].name, "0002_b.sql");
  pqxx::nontransaction tx(connection);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM b")[0][0].as<int>(), 0);
}

TEST(MigratorTest, EditedAppliedMigrationIsAnError) {
  pqxx::connection connection(fresh_test_database());
  Migrator(connection, two_migrations()).migrate();
  auto edited = two_migrations();
  edited[0].sql = "CREATE TABLE a (x bigint);";
  try {
    Migrator(connection, edited).migrate();
    FAIL() << "an edited migration was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("migration 0001_a.sql was edited after it was applied"),
              std::string::npos)
        << e.what();
  }
}

TEST(MigratorTest, FailingMigrationLeavesNothingBehind) {
  pqxx::connection connection(fresh_test_database());
  std::vector<MigrationSource> migrations = {
      {"0001_ok.sql", "CREATE TABLE ok (x int);"},
      {"0002_bad.sql", "CREATE TABLE half (x int); SELECT no_such_function();"}};
  EXPECT_THROW(Migrator(connection, migrations).migrate(), Error);
  pqxx::nontransaction tx(connection);
  EXPECT_FALSE(tx.exec("SELECT to_regclass('half') IS NOT NULL")[0][0].as<bool>());
  EXPECT_TRUE(tx.exec("SELECT to_regclass('ok') IS NOT NULL")[0][0].as<bool>());
}

TEST(MigratorTest, BadFileNameIsAnError) {
  EXPECT_THROW(migration_version("create_tables.sql"), Error);
  EXPECT_EQ(migration_version("0012_x.sql"), 12);
}

TEST(MigratorTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  std::string url = fresh_test_database();
  std::vector<int> applied(4, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      Store store(url);
      applied[i] = store.migrate();
    });
  for (auto& t : threads) t.join();
  int total = 0;
  for (int n : applied) total += n;
  EXPECT_EQ(total, static_cast<int>(embedded_migrations().size()));
}

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/twinflow-blob-XXXXXX";
    root = ::mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(root); }
  fs::path write(const std::string& name, const std::string& content) {
    fs::path path = root / "src" / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
    return path;
  }
  fs::path root;
};

TEST_F(BlobStoreTest, IdenticalContentIsStoredOnce) {
  BlobStore blobs(root / "store");
  auto a = blobs.put(write("a", "same bytes"));
  auto b = blobs.put(write("b", "same bytes"));
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.size_bytes, 10);
  EXPECT_FALSE(fs::exists(root / "src" / "b"));  // moved in (or dropped as a duplicate)
  EXPECT_EQ(a.path.filename().string(), a.content_hash);
  int blobs_on_disk = 0;
  for (auto& entry : fs::recursive_directory_iterator(root / "store"))
    blobs_on_disk += entry.is_regular_file();
  EXPECT_EQ(blobs_on_disk, 1);  // and no temporary files left
}

TEST_F(BlobStoreTest, DirectoriesHashByNamesAndContents) {
  BlobStore blobs(root / "store");
  write("d1/x", "1");
  write("d1/sub/y", "2");
  write("d2/x", "1");
  write("d2/sub/y", "2");
  write("d3/x", "1");
  write("d3/sub/z", "2");
  std::string h1 = BlobStore::content_hash(root / "src" / "d1");
  EXPECT_EQ(h1, BlobStore::content_hash(root / "src" / "d2"));
  EXPECT_NE(h1, BlobStore::content_hash(root / "src" / "d3"));
  auto ref = blobs.put(root / "src" / "d1");
  EXPECT_TRUE(ref.is_directory);
  EXPECT_EQ(ref.size_bytes, 2);
  EXPECT_TRUE(fs::exists(ref.path / "sub" / "y"));
}

}  // namespace
}  // namespace twinflow
