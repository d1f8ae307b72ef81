// Reading JSON out of an LLM's answer, leniently but only where it is safe.
//
// Models asked for JSON wrap it in ```json fences, put a sentence before it,
// return {"samples": [...]} or a bare array, and stop mid-array when they run
// out of tokens (finish_reason "length"). The dataset generator and the LLM
// judge read answers through these functions so that each item of a list
// stands on its own: a broken item costs that item, not the list, and a cut
// answer still yields every item before the cut.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace twinflow {

// Where the JSON of an answer starts: after an opening ``` fence (and its
// language tag) when one comes before any '[' or '{', else at the first '['
// or '{'. Empty when the answer holds neither. A closing fence or text after
// the JSON is left in: the readers below stop at the end of the JSON.
std::string_view json_start(std::string_view answer);

// The items of a list in an answer.
struct JsonItems {
  std::vector<nlohmann::json> items;  // each complete item that parsed, in order
  int64_t unreadable = 0;             // items that did not parse, a cut last item included
  bool found = false;                 // the answer held a JSON array or object at all
  bool truncated = false;             // the answer ended inside the list
};

// The items of the answer's list: a bare array; the array member `list_key`
// of an object ({"samples": [...]}), else its first array member; or an
// object without array members, as a list of one. The array is read element by
// element (brackets and strings tracked, each element parsed alone), so a
// malformed element or a cut-off tail costs only those elements. Empty
// elements ("[a,,b]", "[a,]") are skipped.
JsonItems read_json_items(std::string_view answer, std::string_view list_key);

// The answer's first JSON object (after fences and any leading prose), or
// nullopt when there is none or it does not parse.
std::optional<nlohmann::json> read_json_object(std::string_view answer);

}  // namespace twinflow
