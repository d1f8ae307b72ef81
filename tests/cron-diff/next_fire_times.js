// Next fire times from npm cron-parser (pinned in package.json), for
// tests/cron_diff_test.cc, which compares them with twinflow's Schedule.
//
//   node next_fire_times.js CASES COUNT
//
// CASES has one case per line: `expression<TAB>time zone<TAB>start` (start in
// ISO-8601 UTC). For each it prints one line: the COUNT fire times strictly
// after start, as 2026-03-29T01:00:00Z separated by spaces, or `error: ...`.
'use strict';
const fs = require('fs');
const parser = require('cron-parser');

const [casesFile, countText] = process.argv.slice(2);
const count = Number(countText || 5);
const lines = fs.readFileSync(casesFile, 'utf8').split('\n').filter((line) => line !== '');
const out = [];
for (const line of lines) {
  const [expression, tz, start] = line.split('\t');
  try {
    const it = parser.parseExpression(expression, {currentDate: new Date(start), tz});
    const times = [];
    for (let i = 0; i < count; ++i) times.push(it.next().toDate().toISOString().replace(/\.\d+Z$/, 'Z'));
    out.push(times.join(' '));
  } catch (e) {
    out.push('error: ' + String(e.message || e).replace(/\s+/g, ' '));
  }
}
process.stdout.write(out.join('\n') + '\n');
