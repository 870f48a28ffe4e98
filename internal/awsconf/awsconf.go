// Package awsconf loads AWS configuration the way every trailalarm command needs it — the
// standard credential chain (environment, profiles, SSO, roles), an optional endpoint for
// emulators and S3-compatible stores — and turns SDK errors into one sentence a person can act on.
package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// Options are the AWS settings a command takes from its flags.
type Options struct {
	Region      string // --region; empty: the profile's or AWS_REGION, else us-east-1
	Profile     string // --profile
	EndpointURL string // --endpoint-url, for emulators and S3-compatible stores
}

// Load returns the SDK configuration for o.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// Explain rewrites an AWS SDK error as one sentence that says what went wrong and what to do;
// other errors are returned as they are.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var apiErr smithy.APIError
	var netErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") ||
		strings.Contains(msg, "get credentials"):
		return errors.New("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run 'aws sso login'")
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot resolve %s: check --endpoint-url and --region, and the network", dnsErr.Name)
	case errors.As(err, &netErr):
		return fmt.Errorf("cannot reach the AWS endpoint (%v): check --endpoint-url and the network", netErr.Err)
	case errors.As(err, &apiErr):
		switch apiErr.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError":
			return fmt.Errorf("AWS denied access (%s): the credentials in use lack a permission; %s", apiErr.ErrorCode(), apiErr.ErrorMessage())
		case "InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException":
			return fmt.Errorf("AWS rejected the credentials (%s): refresh them or choose another profile", apiErr.ErrorCode())
		case "NoSuchBucket":
			return fmt.Errorf("the bucket does not exist (or is in another account): %s", apiErr.ErrorMessage())
		case "PermanentRedirect", "AuthorizationHeaderMalformed":
			return fmt.Errorf("the bucket is in another region: pass --region with the bucket's region (%s)", apiErr.ErrorCode())
		}
		return fmt.Errorf("AWS error %s: %s", apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
	return err
}

// Partition is the AWS partition of a region, for building ARNs: aws-cn for China, aws-us-gov
// for GovCloud, aws elsewhere.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
