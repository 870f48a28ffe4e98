package filterpattern_test

import (
	"fmt"

	"github.com/trailalarm/trailalarm/filterpattern"
)

func ExampleParse() {
	p, err := filterpattern.Parse(`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.MatchString(`{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}`))
	// != is false when the field is missing, as in CloudWatch Logs.
	fmt.Println(p.MatchString(`{"eventName":"ConsoleLogin"}`))
	// Output:
	// true
	// false
}

func ExampleParse_error() {
	_, err := filterpattern.Parse(`{ $.eventName = && $.errorCode = "AccessDenied" }`)
	fmt.Println(err)
	// Output: filter pattern: column 17: expected a value after "=", found "&&"
}

func ExampleSet() {
	set := filterpattern.NewSet(
		filterpattern.MustParse(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`),
		filterpattern.MustParse(`{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) }`),
	)
	m := set.NewMatcher() // one per goroutine
	record := []byte(`{"eventType":"AwsApiCall","eventName":"StopLogging","userIdentity":{"type":"Root"}}`)
	fmt.Println(m.Match(record))
	// Output: [0 1]
}

func ExamplePattern_Explain() {
	p := filterpattern.MustParse(`{ $.errorCode = "AccessDenied*" || $.errorCode = "*UnauthorizedOperation" }`)
	fmt.Print(p.Explain([]byte(`{"errorCode":"Client.UnauthorizedOperation"}`)))
	// Output:
	// true   { $.errorCode = "AccessDenied*" || $.errorCode = "*UnauthorizedOperation" }
	//   false  $.errorCode = "AccessDenied*"  # $.errorCode is "Client.UnauthorizedOperation"
	//   true   $.errorCode = "*UnauthorizedOperation"  # $.errorCode is "Client.UnauthorizedOperation"
}

func ExamplePattern_ExtractedValues() {
	p := filterpattern.MustParse(`[ip, user, username, timestamp, request, status_code = 4*, bytes]`)
	for _, v := range p.ExtractedValues([]byte(`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`)) {
		fmt.Println(v.Name, v.Value)
	}
	// Output:
	// $ip 127.0.0.1
	// $user -
	// $username frank
	// $timestamp 10/Oct/2000:13:25:15 -0700
	// $request GET /index.html HTTP/1.0
	// $status_code 404
	// $bytes 1534
}

func ExamplePattern_Ref() {
	p := filterpattern.MustParse(`{ $.latency = * }`)
	ref, err := p.Ref("$.latency") // a metric filter's metricValue
	if err != nil {
		panic(err)
	}
	fmt.Println(ref.Float([]byte(`{"latency": 50, "requestType": "GET"}`)))
	// Output: 50 true
}
