// Package filterpattern implements the Amazon CloudWatch Logs filter pattern language — the
// language of metric filters, subscription filters, FilterLogEvents and Live Tail — with the
// semantics AWS applies, so that a pattern evaluated here matches exactly the log events it
// matches in CloudWatch Logs.
//
// A pattern is one of four kinds, chosen by its first non-blank character:
//
//   - a JSON pattern, `{ $.eventName = "ConsoleLogin" && $.errorMessage = "Failed authentication" }`;
//   - a space-delimited pattern, `[ip, user, ..., status_code = 4*, bytes]`;
//   - a regular expression, `%^REPORT\s%`;
//   - a term pattern, `ERROR -DEBUG "Failed to process"` (the empty pattern matches everything).
//
// [Parse] compiles a pattern and rejects what CloudWatch rejects, with an error that names the
// column and what was expected. [Pattern.Match] tests one log event message. [Set] evaluates many
// patterns against one event in a single pass over its bytes, which is what trailalarm does for
// every CloudTrail record; a [Matcher] holds the per-goroutine scratch space so that an event that
// matches nothing costs no allocation. [Pattern.Explain] shows why a pattern did or did not match,
// and [Pattern.ExtractedValues] returns what TestMetricFilter returns.
//
// Where AWS's documentation is silent, the behaviour follows the specification in trailalarm's
// reference material (filter-pattern-spec.md); the choices are listed in the README.
package filterpattern
