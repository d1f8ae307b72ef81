// normalize_date: reads the publication dates pages carry in their many
// spellings and writes them as ISO-8601.
//
// Sources disagree on format: JSON-LD and OpenGraph use ISO-8601 with any
// offset ("2020-09-24T16:29:03+00:00"), RSS-minded CMSs use RFC 2822 ("Thu,
// 15 Oct 2015 02:19:15 GMT"), some store Unix time, and visible bylines say
// "Published Dec 19, 2016". Instants with a zone are converted to UTC and
// written with 'Z' (fractional seconds kept, as JavaScript's toISOString
// does); a time without a zone stays local and has no suffix; a bare date
// stays a date ("2016-12-19").
#pragma once

#include <string>
#include <string_view>

namespace twinflow {

// Returns "" when `text` holds no date this function can read.
std::string normalize_date(std::string_view text);

}  // namespace twinflow
