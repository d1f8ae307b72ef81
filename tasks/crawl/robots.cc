// robots.txt parsing and matching (RFC 9309), see robots.h.
#include "tasks/crawl/robots.h"
#include "util/strings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace twinflow {

namespace {

// RFC 9309 2.5: crawlers must read at least 500 KiB; we read no more.
constexpr size_t kMaxRobotsBytes = 500 << 10;

// "%2f" and "%2F" name the same octet; compare them alike.
std::string normalise_escapes(std::string_view text) {
  std::string out(text);
  for (size_t i = 0; i + 2 < out.size(); ++i) {
    if (out[i] != '%' || !std::isxdigit(static_cast<unsigned char>(out[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(out[i + 2]))) {
      continue;
    }
    out[i + 1] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i + 1])));
    out[i + 2] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i + 2])));
    i += 2;
  }
  return out;
}

}  // namespace

// Turns robots.txt lines into groups, then keeps the rules of the groups that
// apply to our product token.
class RobotsParser {
 public:
  explicit RobotsParser(std::string agent_token) : agent_token_(std::move(agent_token)) {}

  void feed(std::string_view text) {
    if (text.size() > kMaxRobotsBytes) text = text.substr(0, kMaxRobotsBytes);
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
    while (!text.empty()) {
      const size_t end = text.find_first_of("\r\n");
      feed_line(text.substr(0, end));
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
  }

  RobotsRules finish() {
    RobotsRules rules;
    rules.sitemaps_ = std::move(sitemaps_);
    const bool any_named =
        !agent_token_.empty() && std::any_of(groups_.begin(), groups_.end(),
                                             [&](const Group& g) { return g.names(agent_token_); });
    for (const Group& group : groups_) {
      if (any_named ? !group.names(agent_token_) : !group.names("*")) continue;
      rules.rules_.insert(rules.rules_.end(), group.rules.begin(), group.rules.end());
      if (group.crawl_delay) {
        rules.crawl_delay_ = std::max(rules.crawl_delay_.value_or(0.0), *group.crawl_delay);
      }
    }
    return rules;
  }

 private:
  struct Group {
    std::vector<std::string> agents;  // lower case, "*" for everyone
    std::vector<RobotsRules::Rule> rules;
    std::optional<double> crawl_delay;

    bool names(const std::string& token) const {
      return std::find(agents.begin(), agents.end(), token) != agents.end();
    }
  };

  void feed_line(std::string_view line) {
    line = line.substr(0, line.find('#'));
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string key = to_lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (key == "user-agent" || key == "useragent" || key == "user agent") {
      add_agent(value);
    } else if (key == "allow" || key == "disallow") {
      add_rule(key == "allow", value);
    } else if (key == "crawl-delay") {
      add_crawl_delay(value);
    } else if (key == "sitemap") {
      sitemaps_.emplace_back(value);
    }
  }

  // Consecutive user-agent lines share one group; after a rule line, a
  // user-agent line starts the next group.
  void add_agent(std::string_view value) {
    if (groups_.empty() || !reading_agents_) groups_.emplace_back();
    reading_agents_ = true;
    groups_.back().agents.push_back(value == "*" ? "*" : robots_product_token(value));
  }

  void add_rule(bool allow, std::string_view pattern) {
    reading_agents_ = false;
    // Rules before any user-agent line belong to nobody; an empty pattern
    // matches nothing ("Disallow:" allows everything).
    if (groups_.empty() || pattern.empty()) return;
    groups_.back().rules.push_back({allow, normalise_escapes(pattern)});
  }

  void add_crawl_delay(std::string_view value) {
    reading_agents_ = false;
    if (groups_.empty()) return;
    const std::string text(value);
    char* end = nullptr;
    const double seconds = std::strtod(text.c_str(), &end);
    if (end != text.c_str() && seconds >= 0) groups_.back().crawl_delay = seconds;
  }

  std::string agent_token_;
  std::vector<Group> groups_;
  std::vector<std::string> sitemaps_;
  bool reading_agents_ = false;
};

RobotsRules RobotsRules::parse(std::string_view robots_txt, std::string_view user_agent) {
  RobotsParser parser(robots_product_token(user_agent));
  parser.feed(robots_txt);
  return parser.finish();
}

bool RobotsRules::allowed(std::string_view path) const {
  const std::string normalised = normalise_escapes(path.empty() ? "/" : path);
  if (normalised == "/robots.txt") return true;
  const Rule* best = nullptr;
  for (const Rule& rule : rules_) {
    if (!robots_pattern_matches(rule.pattern, normalised)) continue;
    const bool longer = !best || rule.pattern.size() > best->pattern.size();
    const bool allow_wins_tie = best && rule.pattern.size() == best->pattern.size() && rule.allow;
    if (longer || allow_wins_tie) best = &rule;
  }
  return !best || best->allow;
}

std::string robots_product_token(std::string_view user_agent) {
  user_agent = trim(user_agent);
  size_t end = 0;
  while (end < user_agent.size() && (std::isalnum(static_cast<unsigned char>(user_agent[end])) ||
                                     user_agent[end] == '-' || user_agent[end] == '_')) {
    ++end;
  }
  return to_lower(user_agent.substr(0, end));
}

// Glob matching with backtracking to the last `*`: linear for patterns with
// one star, and never worse than |pattern| * |path|.
bool robots_pattern_matches(std::string_view pattern, std::string_view path) {
  const bool anchored = !pattern.empty() && pattern.back() == '$';
  if (anchored) pattern.remove_suffix(1);
  size_t p = 0, s = 0;
  size_t star = std::string_view::npos, star_s = 0;
  while (s < path.size()) {
    if (!anchored && p == pattern.size()) return true;  // a prefix is enough
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_s = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace twinflow
