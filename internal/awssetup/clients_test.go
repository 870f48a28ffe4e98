package awssetup

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
)

func TestRetryer(t *testing.T) {
	r := Retryer()
	if r.MaxAttempts() != 10 {
		t.Errorf("MaxAttempts = %d", r.MaxAttempts())
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}, true},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, false},
		{&net.DNSError{Name: "logs.xx-nowhere-9.amazonaws.com", Err: "no such host", IsNotFound: true}, false},
		{&smithy.GenericAPIError{Code: "AccessDeniedException"}, false},
	} {
		if got := r.IsErrorRetryable(tc.err); got != tc.want {
			t.Errorf("IsErrorRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestAPIErrorSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: logs:PutMetricFilter"},
			"metric-filter trailalarm-x: logs:PutMetricFilter failed: AWS denied access (AccessDeniedException): the credentials in use lack a permission; not authorized to perform: logs:PutMetricFilter (allow logs:PutMetricFilter to the credentials in use;"},
		{&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
			"metric-filter trailalarm-x: logs:PutMetricFilter failed: AWS error ThrottlingException: Rate exceeded (AWS kept throttling after 10 attempts: run again later, or fewer regions at once)"},
		{&smithy.GenericAPIError{Code: "InvalidParameterException", Message: "Invalid metric filter pattern"},
			"metric-filter trailalarm-x: logs:PutMetricFilter failed: AWS error InvalidParameterException: Invalid metric filter pattern"},
	} {
		got := apiError(KindFilter, "trailalarm-x", "logs:PutMetricFilter", tc.err).Error()
		if !strings.HasPrefix(got, tc.want) || strings.Contains(got, "\n") {
			t.Errorf("got  %s\nwant %s…", got, tc.want)
		}
	}
}

func TestManagementEvents(t *testing.T) {
	basic := func(rw cttypes.ReadWriteType, mgmt bool) cttypes.EventSelector {
		return cttypes.EventSelector{ReadWriteType: rw, IncludeManagementEvents: aws.Bool(mgmt)}
	}
	adv := func(fs ...cttypes.AdvancedFieldSelector) cttypes.AdvancedEventSelector {
		return cttypes.AdvancedEventSelector{FieldSelectors: fs}
	}
	field := func(name string, eq ...string) cttypes.AdvancedFieldSelector {
		return cttypes.AdvancedFieldSelector{Field: aws.String(name), Equals: eq}
	}
	for _, tc := range []struct {
		out  cloudtrail.GetEventSelectorsOutput
		want string
	}{
		{cloudtrail.GetEventSelectorsOutput{}, ""},
		{cloudtrail.GetEventSelectorsOutput{EventSelectors: []cttypes.EventSelector{basic(cttypes.ReadWriteTypeAll, true)}}, "All"},
		{cloudtrail.GetEventSelectorsOutput{EventSelectors: []cttypes.EventSelector{basic(cttypes.ReadWriteTypeWriteOnly, true)}}, "WriteOnly"},
		{cloudtrail.GetEventSelectorsOutput{EventSelectors: []cttypes.EventSelector{basic(cttypes.ReadWriteTypeAll, false)}}, ""},
		{cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{adv(field("eventCategory", "Management"))}}, "All"},
		{cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{adv(field("eventCategory", "Management"), field("readOnly", "true"))}}, "ReadOnly"},
		{cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{adv(field("eventCategory", "Data"))}}, ""},
	} {
		if got := managementEvents(&tc.out); got != tc.want {
			t.Errorf("managementEvents(%+v) = %q, want %q", tc.out, got, tc.want)
		}
	}
}

func TestLogGroupOfARN(t *testing.T) {
	if g := logGroupOfARN(LogGroupARN("eu-west-1", "123456789012", "aws/cloudtrail/x")); g != "aws/cloudtrail/x" {
		t.Errorf("logGroupOfARN = %q", g)
	}
	if g := logGroupOfARN("arn:aws:s3:::bucket"); g != "" {
		t.Errorf("logGroupOfARN(bucket) = %q", g)
	}
}
