package awssetup

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Subscription is one SNS subscription: a protocol and an endpoint as Subscribe takes them.
type Subscription struct {
	Protocol string `json:"protocol"` // email, https, sqs or lambda
	Endpoint string `json:"endpoint"` // an address, a URL or an ARN
}

// String is the subscription as --subscribe takes it.
func (s Subscription) String() string {
	if s.Protocol == "https" {
		return s.Endpoint
	}
	return s.Protocol + ":" + s.Endpoint
}

// ParseSubscription reads a --subscribe value: email:ADDRESS, https://URL (or https:URL),
// sqs:QUEUE_ARN or lambda:FUNCTION_ARN.
func ParseSubscription(v string) (Subscription, error) {
	proto, rest, ok := strings.Cut(v, ":")
	if !ok || rest == "" {
		return Subscription{}, fmt.Errorf("--subscribe %q: use email:ADDRESS, https://URL, sqs:QUEUE_ARN or lambda:FUNCTION_ARN", v)
	}
	bad := func(what string) (Subscription, error) {
		return Subscription{}, fmt.Errorf("--subscribe %q: %s", v, what)
	}
	switch strings.ToLower(proto) {
	case "email":
		a, err := mail.ParseAddress(rest)
		if err != nil || a.Name != "" || a.Address != rest {
			return bad("not an email address (want email:name@example.com)")
		}
		return Subscription{Protocol: "email", Endpoint: rest}, nil
	case "https":
		endpoint := rest
		if !strings.HasPrefix(endpoint, "//") {
			endpoint = "//" + endpoint
		}
		endpoint = "https:" + endpoint
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || u.User != nil || strings.ContainsAny(endpoint, " \t\r\n") {
			return bad("not an https URL (want https://example.com/hook)")
		}
		return Subscription{Protocol: "https", Endpoint: endpoint}, nil
	case "sqs", "lambda":
		service := strings.ToLower(proto)
		parts := strings.SplitN(rest, ":", 7)
		if len(parts) < 6 || parts[0] != "arn" || parts[2] != service || parts[3] == "" || len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" || parts[5] == "" ||
			service == "lambda" && (parts[5] != "function" || len(parts) < 7 || parts[6] == "") {
			if service == "sqs" {
				return bad("not an SQS queue ARN (want sqs:arn:aws:sqs:REGION:ACCOUNT:QUEUE)")
			}
			return bad("not a Lambda function ARN (want lambda:arn:aws:lambda:REGION:ACCOUNT:function:NAME)")
		}
		if strings.ContainsAny(rest, " \t\r\n") {
			return bad("an ARN has no blanks")
		}
		return Subscription{Protocol: service, Endpoint: rest}, nil
	}
	return bad(fmt.Sprintf("unknown protocol %q: use email, https, sqs or lambda", proto))
}

// ParseSubscriptions reads every --subscribe value; the same subscription given twice counts once.
func ParseSubscriptions(vs []string) ([]Subscription, error) {
	var out []Subscription
	seen := map[Subscription]bool{}
	for _, v := range vs {
		s, err := ParseSubscription(v)
		if err != nil {
			return nil, err
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}
