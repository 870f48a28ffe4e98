package awssetup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trailalarm/trailalarm/internal/awsconf"
)

// Clients are the service clients of one account and region.
type Clients struct {
	Region     string
	Logs       *cloudwatchlogs.Client
	CloudWatch *cloudwatch.Client
	SNS        *sns.Client
	CloudTrail *cloudtrail.Client
	IAM        *iam.Client
	S3         *s3.Client
	STS        *sts.Client
}

// NewClients makes the clients for cfg's region; cw options apply to the CloudWatch client
// (tests point it at another emulator). Per-service endpoints from the environment
// (AWS_ENDPOINT_URL_CLOUDWATCH, …) are the SDK's own.
func NewClients(cfg aws.Config, cw ...func(*cloudwatch.Options)) *Clients {
	return &Clients{
		Region:     cfg.Region,
		Logs:       cloudwatchlogs.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg, cw...),
		SNS:        sns.NewFromConfig(cfg),
		CloudTrail: cloudtrail.NewFromConfig(cfg),
		IAM:        iam.NewFromConfig(cfg),
		// An endpoint override (an emulator, a proxy) cannot resolve bucket subdomains.
		S3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }),
		STS: sts.NewFromConfig(cfg),
	}
}

// Retryer retries throttling and transient errors (a dropped connection included) up to 10
// attempts with jittered backoff, but not a failure to connect at all: an endpoint that refuses
// connections or does not resolve is a configuration problem, and the person waiting should hear
// so at once.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 10
		o.MaxBackoff = 20 * time.Second
		o.Retryables = append([]retry.IsErrorRetryable{noDialRetry{}}, o.Retryables...)
	})
}

// noDialRetry says "do not retry" for errors of dialling or resolving an endpoint.
type noDialRetry struct{}

func (noDialRetry) IsErrorRetryable(err error) aws.Ternary {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// AccountID asks STS who the credentials belong to.
func (c *Clients) AccountID(ctx context.Context) (string, error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("region %s: sts:GetCallerIdentity: %w", c.Region, awsconf.Explain(err))
	}
	return aws.ToString(out.Account), nil
}

// TrailLogGroup returns the CloudWatch Logs group a trail of this region sends to: a logging
// multi-region trail's first, else any trail's; "" when none does.
func (c *Clients) TrailLogGroup(ctx context.Context) (string, error) {
	out, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		return "", apiError("trails", "(all)", "cloudtrail:DescribeTrails", err)
	}
	best := ""
	for _, t := range out.TrailList {
		g := logGroupOfARN(aws.ToString(t.CloudWatchLogsLogGroupArn))
		if g == "" || aws.ToString(t.HomeRegion) != "" && aws.ToString(t.HomeRegion) != c.Region {
			continue // a group in another region cannot carry this region's filters
		}
		if aws.ToBool(t.IsMultiRegionTrail) {
			return g, nil
		}
		if best == "" {
			best = g
		}
	}
	return best, nil
}

// logGroupOfARN is the group name of arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*].
func logGroupOfARN(arn string) string {
	_, rest, ok := strings.Cut(arn, ":log-group:")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(rest, ":*")
}

// APIError is a failed AWS call on one resource.
type APIError struct {
	Kind string // the resource's kind, as plans name it
	Name string // the resource
	Call string // the IAM action of the call, e.g. logs:PutMetricFilter
	Err  error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %s failed: %v", e.Kind, e.Name, e.Call, awsconf.Explain(e.Err))
	var apiErr smithy.APIError
	var respErr *awshttp.ResponseError
	if !errors.As(e.Err, &apiErr) && errors.As(e.Err, &respErr) && respErr.HTTPStatusCode() > 0 {
		// An answer the SDK cannot read: another service, a proxy, an emulator without this API.
		service := "the service"
		var opErr *smithy.OperationError
		if errors.As(e.Err, &opErr) {
			service = opErr.ServiceID
		}
		return fmt.Sprintf("%s %s: %s failed: the endpoint answered HTTP %d with something other than %s's answer: check --endpoint-url and AWS_ENDPOINT_URL*",
			e.Kind, e.Name, e.Call, respErr.HTTPStatusCode(), service)
	}
	if errors.As(e.Err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" || code == "AuthorizationError":
			msg += fmt.Sprintf(" (allow %s to the credentials in use; the README lists every permission plan and apply need)", e.Call)
		case strings.Contains(code, "Throttl") || code == "TooManyRequestsException" || code == "RequestLimitExceeded" || code == "LimitExceededException":
			msg += " (AWS kept throttling after 10 attempts: run again later, or fewer regions at once)"
		}
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.Err }

func apiError(kind, name, call string, err error) error {
	return &APIError{Kind: kind, Name: name, Call: call, Err: err}
}

// isCode reports whether err is an AWS error with one of codes.
func isCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	for _, c := range codes {
		if apiErr.ErrorCode() == c {
			return true
		}
	}
	return false
}
