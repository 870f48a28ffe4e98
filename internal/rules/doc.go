// Package rules is trailalarm's rule file format: detection rules written in YAML, each a
// CloudWatch Logs filter pattern with the metric filter and alarm that go with it, validated with
// file, line and column; and the built-in rule packs (the CIS AWS Foundations Benchmark versions
// and Security Hub's CloudWatch.1–14), embedded in the binary.
//
// A rule file holds a top-level `rules:` list and optionally a `pack:` name and `description:`.
// [Parse] and [LoadFile] read one file and return every problem of it at once as [Errors];
// [Pack] and [Packs] give the built-in packs; [Select] combines packs and files into one rule set
// and rejects an id defined twice; [DefaultSelection] is what trailalarm uses when no pack is named.
//
// Rules are compiled when they are read: each carries its *filterpattern.Pattern and the
// *filterpattern.Ref of its metric value and dimensions, so that a rule that loads is a rule
// that CloudWatch Logs would accept. CloudWatch alarm semantics are checked by package alarm;
// this package only checks that alarm settings have the right types and plausible values.
package rules
