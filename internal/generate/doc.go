// Package generate writes synthetic CloudTrail for demos, tests and
// benchmarks: files in the S3 delivery layout, each the gzip of
// {"Records":[…]} for one account, region and 5-minute window, with everyday
// background traffic and events for every CIS monitoring control injected
// into it, plus near-misses.
//
// Generate's output is a pure function of its Options: the same seed gives
// the same bytes whatever the number of workers. Every injected event is
// listed in the Summary; a hit is matched by its own control's CIS filter and
// no other, a near-miss and the background by none, so the list is the exact
// expected output of a CIS detector (cis_test.go checks this with the
// filterpattern package).
//
// Records are appended to a byte buffer from pre-rendered fragments (no
// encoding/json, no maps per record); files are built and gzipped on all
// cores and handed to the caller in order.
package generate
