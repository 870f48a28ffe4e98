package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/trailalarm/trailalarm/internal/awsconf"
)

// AWSConfig is the AWS part of the SNS and Security Hub notifiers' configuration; credentials
// come from the standard chain (environment, profile, SSO, role), never from this file.
type AWSConfig struct {
	Region      string `yaml:"region"`       // default: the ARN's region, else the environment's
	Profile     string `yaml:"profile"`      // a shared-config profile
	EndpointURL string `yaml:"endpoint_url"` // for emulators
}

func loadAWS(ctx context.Context, c AWSConfig, region string) (aws.Config, error) {
	cfg, err := awsconf.Load(ctx, awsconf.Options{Region: or(c.Region, region), Profile: c.Profile, EndpointURL: c.EndpointURL})
	if err != nil {
		return aws.Config{}, awsconf.Explain(err)
	}
	return cfg, nil
}

// awsError explains an SDK error in one sentence (awsconf.Explain) and marks the ones that no
// retry can fix. Credentials and permissions stay retryable: an operator can fix them while
// the alert waits in the outbox.
func awsError(what string, err error) error {
	permanent := false
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorFault() != smithy.FaultServer {
		switch api.ErrorCode() {
		case "InvalidParameter", "InvalidParameterValue", "InvalidParameterException", "InvalidInputException",
			"ValidationException", "ValidationError", "NotFound", "NotFoundException", "ResourceNotFoundException",
			"InvalidAccessException", "KMSDisabled", "KMSInvalidState", "KMSNotFound", "EndpointDisabled":
			permanent = true
		}
	}
	e := fmt.Errorf("%s: %w", what, awsconf.Explain(err))
	if permanent {
		return Permanent(e)
	}
	return e
}
