package rules

import "strings"

// AccountIDParam is the built-in value a pattern may use inside a quoted value: the account the
// rule is evaluated for. Offline (scan, run) it is the record's recipientAccountId; deployed as a
// metric filter it is the account of the log group. It expresses "another account" without
// comparing two fields, e.g. `$.requestParameters.policyDocument != "*${account_id}*"`.
const AccountIDParam = "${account_id}"

// UsesAccountID reports whether pattern uses ${account_id}.
func UsesAccountID(pattern string) bool { return strings.Contains(pattern, AccountIDParam) }

// UsesAccountID reports whether the rule's pattern uses ${account_id}.
func (r *Rule) UsesAccountID() bool { return UsesAccountID(r.Pattern) }

// BindAccountID fills ${account_id} in pattern with account. Characters other than letters,
// digits, '-', '_' and '.' are replaced by '_', so that an untrusted recipientAccountId cannot
// change the pattern's structure (account ids are 12 digits).
func BindAccountID(pattern, account string) string {
	if !UsesAccountID(pattern) {
		return pattern
	}
	clean := []byte(account)
	for i, c := range clean {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			clean[i] = '_'
		}
	}
	return strings.ReplaceAll(pattern, AccountIDParam, string(clean))
}
