// Differential test of twinflow's cron against npm cron-parser (the version
// pinned in tests/cron-diff/package.json, installed by scripts/setup.sh).
//
// 300 seeded random expressions (numbers, ranges, lists, steps `*/N` and
// `a-b/N` in every field, day and month names), spread over 8 time zones
// (each expression in one zone, in turn; TWINFLOW_CRON_DIFF_FULL=1 tries each
// in all 8: cron-parser needs some 25 ms a case), each started shortly before
// one of the zone's DST changes, and the next 5 fire times of both compared. Every difference is
// printed. Twinflow deliberately departs from cron-parser in one place, documented in cron.h: a
// fixed-hour schedule whose tick falls in a spring-forward gap fires once when the gap ends, and
// one in a fall-back overlap at its first occurrence (Airflow's rule), so
// differences whose instants all lie within a few hours of a DST change of
// the zone are counted apart; any other difference fails the test.
//
// The generator avoids what the two libraries each read their own way and
// twinflow documents its own way: a day field written otherwise than `*` that
// still allows every day (`*/1`, `1-31`, `0-6`), which cron-parser counts as
// restricted or not depending on the spelling and the month.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cctz/time_zone.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "scheduler/definition/cron.h"
#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "util/error.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;
using TimePoint = std::chrono::system_clock::time_point;
using Seconds = cctz::time_point<cctz::seconds>;

const fs::path kDiffDir = fs::path(TWINFLOW_SOURCE_DIR) / "tests" / "cron-diff";
constexpr int kExpressions = 300;
constexpr int kFireTimes = 5;
const char* const kZones[] = {
    "America/New_York",  "Europe/Berlin",    "Australia/Sydney", "Asia/Kolkata",
    "America/Sao_Paulo", "Pacific/Auckland", "Europe/London",    "UTC"};

// Random cron fields. Day fields never allow every day unless written `*`.
class CronGenerator {
 public:
  explicit CronGenerator(uint32_t seed) : rng_(seed) {}

  std::string expression() {
    return field(0, 59, 30) + " " + field(0, 23, 12) + " " + day_of_month() + " " + month() + " " +
           day_of_week();
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(1, 100) <= percent; }

  // A minute or hour field; `max_step` bounds */N.
  std::string field(int lo, int hi, int max_step) {
    switch (pick(0, 6)) {
      case 0:
        return "*";
      case 1:
        return "*/" + std::to_string(pick(2, max_step));
      case 2: {
        const int a = pick(lo, hi - 1);
        return std::to_string(a) + "-" + std::to_string(pick(a + 1, hi));
      }
      case 3: {
        const int a = pick(lo, hi - 2);
        return std::to_string(a) + "-" + std::to_string(pick(a + 1, hi)) + "/" +
               std::to_string(pick(2, 5));
      }
      case 4:
        return list(lo, hi, pick(2, 4));
      default:
        return std::to_string(pick(lo, hi));
    }
  }

  std::string list(int lo, int hi, int n) {
    std::vector<int> values;
    while (static_cast<int>(values.size()) < n) {
      const int v = pick(lo, hi);
      if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
    }
    std::sort(values.begin(), values.end());
    std::string text;
    for (int v : values) text += (text.empty() ? "" : ",") + std::to_string(v);
    return text;
  }

  std::string day_of_month() {
    if (chance(40)) return "*";
    switch (pick(0, 4)) {
      case 0:
        return "*/" + std::to_string(pick(2, 16));
      case 1: {
        const int a = pick(1, 28);
        return std::to_string(a) + "-" + std::to_string(std::min(31, a + pick(1, 20)));
      }
      case 2: {
        const int a = pick(1, 20);
        return std::to_string(a) + "-" + std::to_string(pick(a + 1, 31)) + "/" +
               std::to_string(pick(2, 7));
      }
      case 3:
        return list(1, 31, pick(2, 3));
      default:
        return std::to_string(pick(1, 31));
    }
  }

  std::string month() {
    static const char* const kNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    if (chance(70)) return "*";
    switch (pick(0, 3)) {
      case 0:
        return "*/" + std::to_string(pick(2, 4));
      case 1: {
        const int a = pick(1, 11);
        return std::to_string(a) + "-" + std::to_string(pick(a + 1, 12));
      }
      case 2:
        return list(1, 12, pick(2, 4));
      default:
        return kNames[pick(0, 11)];
    }
  }

  std::string day_of_week() {
    static const char* const kNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
    if (chance(45)) return "*";
    switch (pick(0, 5)) {
      case 0:
        return "*/" + std::to_string(pick(2, 3));
      case 1: {
        const int a = pick(0, 5);
        return std::to_string(a) + "-" + std::to_string(pick(a + 1, std::min(6, a + 5)));
      }
      case 2: {
        const int a = pick(1, 4);
        return std::string(kNames[a]) + "-" + kNames[pick(a + 1, 5)];
      }
      case 3:
        return list(0, 6, pick(2, 3));
      case 4:
        return std::to_string(pick(0, 7));  // 7 is Sunday too
      default:
        return kNames[pick(0, 6)];
    }
  }

  std::mt19937 rng_;
};

// The instants at which `zone`'s UTC offset changes in 2026 and 2027.
std::vector<Seconds> transitions(const cctz::time_zone& zone) {
  std::vector<Seconds> out;
  Seconds t = cctz::convert(cctz::civil_second(2026, 1, 1, 0, 0, 0), cctz::utc_time_zone());
  const Seconds end = cctz::convert(cctz::civil_second(2028, 1, 1, 0, 0, 0), cctz::utc_time_zone());
  cctz::time_zone::civil_transition next;
  while (zone.next_transition(t, &next)) {
    const Seconds at = zone.lookup(next.to).trans;
    if (at >= end) break;
    out.push_back(at);
    t = at;
  }
  return out;
}

struct Case {
  std::string cron;
  std::string zone;
  TimePoint start;
  std::string start_text;
};

std::string iso(TimePoint t) {
  return format_iso8601_utc(t);
}

// Starts each expression up to three days before a DST change of the zone
// (for zones without one, at the same dates as Europe/Berlin's), at a second
// that is not 0 so that no start is itself a tick.
std::vector<Case> make_cases(uint32_t seed) {
  CronGenerator generator(seed);
  std::mt19937 rng(seed + 1);
  std::vector<std::string> crons;
  for (int i = 0; i < kExpressions; ++i) crons.push_back(generator.expression());
  cctz::time_zone berlin;
  cctz::load_time_zone("Europe/Berlin", &berlin);
  const bool full = std::getenv("TWINFLOW_CRON_DIFF_FULL") != nullptr;
  std::vector<Case> cases;
  int zone_index = 0;
  for (const char* name : kZones) {
    cctz::time_zone zone;
    if (!cctz::load_time_zone(name, &zone)) throw Error(std::string("no zone ") + name);
    std::vector<Seconds> changes = transitions(zone);
    if (changes.empty()) changes = transitions(berlin);
    for (size_t i = 0; i < crons.size(); ++i) {
      if (!full && i % std::size(kZones) != static_cast<size_t>(zone_index)) continue;
      const std::string& cron = crons[i];
      const Seconds change =
          changes[std::uniform_int_distribution<size_t>(0, changes.size() - 1)(rng)];
      const Seconds start =
          change - cctz::seconds(std::uniform_int_distribution<int>(1, 3 * 24 * 60)(rng) * 60) -
          cctz::seconds(std::uniform_int_distribution<int>(1, 59)(rng));
      const TimePoint at = TimePoint(std::chrono::seconds(start.time_since_epoch().count()));
      cases.push_back({cron, name, at, iso(at)});
    }
    ++zone_index;
  }
  return cases;
}

std::string twinflow_times(const Case& c) {
  ScheduleParse parsed = Schedule::parse(c.cron, c.zone);
  if (!parsed.schedule) return "error: " + parsed.error;
  std::string out;
  try {
    for (TimePoint t : parsed.schedule->next_n(c.start, kFireTimes))
      out += (out.empty() ? "" : " ") + iso(t);
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Whether every fire time in one list and not the other lies within three
// hours of a DST change of `zone`: the documented rule for ticks in a gap
// or an overlap, not a disagreement about which days or hours match.
bool only_dst_differences(const std::string& ours, const std::string& theirs,
                          const std::string& zone_name) {
  if (ours.starts_with("error") || theirs.starts_with("error")) return false;
  std::vector<std::string> a = words(ours);
  std::vector<std::string> b = words(theirs);
  // Compare up to where both lists reach: past that, one list's extra tick
  // pushes the other's last one out of the window.
  const std::string horizon = std::min(a.back(), b.back());
  cctz::time_zone zone;
  cctz::load_time_zone(zone_name, &zone);
  const std::vector<Seconds> changes = transitions(zone);
  const auto near_change = [&](const std::string& text) {
    const auto seconds =
        std::chrono::floor<std::chrono::seconds>(*parse_iso8601(text)).time_since_epoch().count();
    for (const Seconds& change : changes)
      if (std::abs(change.time_since_epoch().count() - seconds) <= 3 * 3600) return true;
    return false;
  };
  for (const auto* list : {&a, &b}) {
    const auto& other = list == &a ? b : a;
    for (const std::string& t : *list)
      if (t <= horizon && std::find(other.begin(), other.end(), t) == other.end() &&
          !near_change(t))
        return false;
  }
  return true;
}

TEST(CronDiffTest, AgreesWithNpmCronParserOnRandomExpressionsAroundDstChanges) {
  ASSERT_TRUE(fs::exists(kDiffDir / "node_modules" / "cron-parser"))
      << "run scripts/setup.sh: it runs `npm ci` in " << kDiffDir;
  const std::vector<Case> cases = make_cases(20261202);
  const fs::path input = fs::path(::testing::TempDir()) / "twinflow-cron-diff-cases.tsv";
  {
    std::ofstream out(input);
    for (const Case& c : cases) out << c.cron << '\t' << c.zone << '\t' << c.start_text << '\n';
  }
  const std::string command = "node '" + (kDiffDir / "next_fire_times.js").string() + "' '" +
                              input.string() + "' " + std::to_string(kFireTimes) + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[65536];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  fs::remove(input);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  std::vector<std::string> theirs;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) theirs.push_back(line);
  ASSERT_EQ(theirs.size(), cases.size()) << output.substr(0, 2000);

  size_t agree = 0;
  size_t dst = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const std::string ours = twinflow_times(c);
    // Both rejecting an expression (one that never fires, say) is agreement.
    if (ours == theirs[i] || (ours.starts_with("error") && theirs[i].starts_with("error"))) {
      ++agree;
      continue;
    }
    const std::string what = "'" + c.cron + "' in " + c.zone + " after " + c.start_text +
                             "\n  twinflow:    " + ours + "\n  cron-parser: " + theirs[i];
    if (only_dst_differences(ours, theirs[i], c.zone)) {
      ++dst;
      std::printf("DST rule (documented in cron.h): %s\n", what.c_str());
    } else {
      ADD_FAILURE() << what;
    }
  }
  std::printf(
      "cron-diff: %zu of %zu cases agree with cron-parser, %zu differ only at DST "
      "changes (twinflow follows Airflow there), %zu differ otherwise\n",
      agree, cases.size(), dst, cases.size() - agree - dst);
}

}  // namespace
}  // namespace twinflow
