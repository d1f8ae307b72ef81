// Tests for tasks/crawl/repo_files: scan_repository on the sample author's
// repository (built as a real git checkout by sample/make_repo.sh) keeps
// exactly the files sample/expected.json lists and skips the others for the
// listed reasons; and on small hand-made trees, the rules one at a time:
// symlinks out of the root, bytes that are not UTF-8, generator markers, the
// size cap, nested dependency folders, and a root that is not a directory.
#include "tasks/crawl/repo_files.h"
#include "tests/support/scratch_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "util/error.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSample = fs::path(TWINFLOW_SOURCE_DIR) / "sample";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// Runs sample/make_repo.sh, as the demo does, into `dest`.
void make_sample_repo(const fs::path& dest) {
  const std::string command =
      "bash '" + (kSample / "make_repo.sh").string() + "' '" + dest.string() + "' > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

std::vector<std::string> paths_of(const std::vector<RepoFile>& files) {
  std::vector<std::string> out;
  for (const RepoFile& f : files) out.push_back(f.path);
  return out;
}

std::string reason_for(const RepoScan& scan, const std::string& path) {
  for (const SkippedFile& s : scan.skipped) {
    if (s.path == path) return s.reason;
  }
  return "(not skipped)";
}

class SampleRepoScan : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir;
    make_sample_repo(scratch_->path() / "chunkwise");
    scan_ = new RepoScan(scan_repository(scratch_->path() / "chunkwise"));
  }
  static void TearDownTestSuite() {
    delete scan_;
    delete scratch_;
  }
  static Json expected_repo() { return Json::parse(slurp(kSample / "expected.json")).at("repo"); }

  static ScratchDir* scratch_;
  static RepoScan* scan_;
};

ScratchDir* SampleRepoScan::scratch_ = nullptr;
RepoScan* SampleRepoScan::scan_ = nullptr;

TEST_F(SampleRepoScan, KeepsExactlyTheAuthorsFilesInPathOrder) {
  EXPECT_EQ(paths_of(scan_->files), expected_repo().at("kept").get<std::vector<std::string>>());
}

TEST_F(SampleRepoScan, SkipsTheRestWithTheirReasons) {
  const Json repo = expected_repo();
  std::vector<std::pair<std::string, std::string>> expected, actual;
  for (const Json& s : repo.at("skipped")) expected.emplace_back(s.at("path"), s.at("reason"));
  for (const SkippedFile& s : scan_->skipped) actual.emplace_back(s.path, s.reason);
  EXPECT_EQ(actual, expected);
}

TEST_F(SampleRepoScan, KeptFilesCarryContentAndLanguage) {
  const fs::path root = scratch_->path() / "chunkwise";
  for (const RepoFile& f : scan_->files) {
    EXPECT_EQ(f.content, slurp(root / f.path)) << f.path;
  }
  EXPECT_EQ(scan_->files[0].path, ".gitignore");
  EXPECT_EQ(scan_->files[0].language, "");
  EXPECT_EQ(language_of("chunkwise/chunk.py"), "python");
  EXPECT_EQ(language_of("README.md"), "markdown");
  EXPECT_EQ(language_of("pyproject.toml"), "toml");
  EXPECT_EQ(language_of("proto/schema.proto"), "protobuf");
  EXPECT_EQ(language_of("docker/Dockerfile"), "dockerfile");
  EXPECT_EQ(language_of("src/Main.CC"), "cpp");
}

TEST_F(SampleRepoScan, NeverListsGitInternals) {
  for (const RepoFile& f : scan_->files) EXPECT_NE(f.path.rfind(".git/", 0), 0u) << f.path;
  for (const SkippedFile& s : scan_->skipped) EXPECT_NE(s.path.rfind(".git/", 0), 0u) << s.path;
}

TEST(RepoFiles, SymlinksAreSkippedNotFollowed) {
  ScratchDir dir;
  const fs::path root = dir.path() / "repo";
  write(root / "main.py", "print('hi')\n");
  write(dir.path() / "outside" / "secret.txt", "password=hunter2\n");
  fs::create_symlink(dir.path() / "outside" / "secret.txt", root / "escape.txt");
  fs::create_directory_symlink(dir.path() / "outside", root / "linked_dir");
  fs::create_symlink("main.py", root / "alias.py");

  const RepoScan scan = scan_repository(root);
  EXPECT_EQ(paths_of(scan.files), std::vector<std::string>{"main.py"});
  EXPECT_EQ(reason_for(scan, "escape.txt"), "symlink");
  EXPECT_EQ(reason_for(scan, "linked_dir"), "symlink");
  EXPECT_EQ(reason_for(scan, "alias.py"), "symlink");
  for (const RepoFile& f : scan.files) EXPECT_EQ(f.content.find("hunter2"), std::string::npos);
}

TEST(RepoFiles, BinaryAndNonUtf8FilesAreSkipped) {
  ScratchDir dir;
  write(dir.path() / "latin1.txt", "caf\xe9 cr\xe8me\n");
  write(dir.path() / "blob.dat", std::string("abc\0def", 7));
  write(dir.path() / "utf8.txt", "caf\xc3\xa9 \xf0\x9d\x97\xa7ip\n");
  const RepoScan scan = scan_repository(dir.path());
  EXPECT_EQ(paths_of(scan.files), std::vector<std::string>{"utf8.txt"});
  EXPECT_EQ(reason_for(scan, "latin1.txt"), "not UTF-8");
  EXPECT_EQ(reason_for(scan, "blob.dat"), "binary");
}

TEST(RepoFiles, GeneratedMarkersCountOnlyInTheFirstFiveLines) {
  ScratchDir dir;
  write(dir.path() / "gen.go", "// Code generated by stringer; DO NOT EDIT.\npackage x\n");
  write(dir.path() / "late.py", "1\n2\n3\n4\n# @generated\n");
  write(dir.path() / "prose.md", "1\n2\n3\n4\n5\nSay \"DO NOT EDIT\" in generated files.\n");
  write(dir.path() / "api.pb.go", "package api\n");
  write(dir.path() / "site.min.css", "a{color:red}\n");
  const RepoScan scan = scan_repository(dir.path());
  EXPECT_EQ(paths_of(scan.files), std::vector<std::string>{"prose.md"});
  EXPECT_EQ(reason_for(scan, "gen.go"), "generated");
  EXPECT_EQ(reason_for(scan, "late.py"), "generated");
  EXPECT_EQ(reason_for(scan, "api.pb.go"), "generated");
  EXPECT_EQ(reason_for(scan, "site.min.css"), "generated");
}

TEST(RepoFiles, NestedDependencyFoldersAndLockFilesAreSkippedAtAnyDepth) {
  ScratchDir dir;
  write(dir.path() / "web" / "node_modules" / "left-pad" / "index.js", "module.exports = 1;\n");
  write(dir.path() / "web" / "package-lock.json", "{}\n");
  write(dir.path() / "web" / "app.js", "console.log(1);\n");
  write(dir.path() / "svc" / "go.sum", "x v1 h1:abc\n");
  write(dir.path() / "svc" / "target" / "debug" / "out.txt", "built\n");
  const RepoScan scan = scan_repository(dir.path());
  EXPECT_EQ(paths_of(scan.files), std::vector<std::string>{"web/app.js"});
  EXPECT_EQ(reason_for(scan, "web/node_modules/"), "vendored");
  EXPECT_EQ(reason_for(scan, "web/package-lock.json"), "lock file");
  EXPECT_EQ(reason_for(scan, "svc/go.sum"), "lock file");
  EXPECT_EQ(reason_for(scan, "svc/target/"), "vendored");
}

TEST(RepoFiles, SizeCapAndListsCanBeChanged) {
  ScratchDir dir;
  write(dir.path() / "big.txt", std::string(1500, 'x'));
  write(dir.path() / "small.txt", std::string(1000, 'x'));
  write(dir.path() / "vendor" / "ours.py", "x = 1\n");
  RepoFileOptions options;
  options.max_file_bytes = 1000;
  options.vendored_dirs = {"third_party"};
  const RepoScan scan = scan_repository(dir.path(), options);
  EXPECT_EQ(paths_of(scan.files), (std::vector<std::string>{"small.txt", "vendor/ours.py"}));
  EXPECT_EQ(reason_for(scan, "big.txt"), "larger than 1000 bytes");
}

TEST(RepoFiles, TwoScansAreIdentical) {
  ScratchDir dir;
  for (const char* name : {"b.py", "a/z.py", "a/b.md", "c.txt", "A.py"}) {
    write(dir.path() / name, std::string(name) + "\n");
  }
  const RepoScan first = scan_repository(dir.path());
  const RepoScan second = scan_repository(dir.path());
  EXPECT_EQ(paths_of(first.files),
            (std::vector<std::string>{"A.py", "a/b.md", "a/z.py", "b.py", "c.txt"}));
  EXPECT_EQ(paths_of(first.files), paths_of(second.files));
}

TEST(RepoFiles, RootThatIsNotADirectoryIsAnError) {
  ScratchDir dir;
  write(dir.path() / "file.txt", "x\n");
  try {
    scan_repository(dir.path() / "file.txt");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("file.txt: not a directory"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(scan_repository(dir.path() / "missing"), Error);
}

}  // namespace
}  // namespace twinflow
