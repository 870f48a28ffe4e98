package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("operation error S3: ListObjectsV2, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found"), "no AWS credentials found"},
		{fmt.Errorf("list: %w", &net.DNSError{Name: "s3.nowhere.example", Err: "no such host"}), "cannot resolve s3.nowhere.example"},
		{fmt.Errorf("list: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), "cannot reach the AWS endpoint"},
		{&smithy.GenericAPIError{Code: "AccessDenied", Message: "not allowed"}, "AWS denied access (AccessDenied)"},
		{&smithy.GenericAPIError{Code: "ExpiredToken", Message: "old"}, "AWS rejected the credentials (ExpiredToken)"},
		{&smithy.GenericAPIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}, "the bucket does not exist"},
		{&smithy.GenericAPIError{Code: "PermanentRedirect", Message: "x"}, "pass --region"},
		{&smithy.GenericAPIError{Code: "Throttling", Message: "slow down"}, "AWS error Throttling: slow down"},
		{errors.New("something else"), "something else"},
	}
	for _, tt := range tests {
		got := Explain(tt.err)
		if tt.err == nil {
			if got != nil {
				t.Errorf("Explain(nil) = %v", got)
			}
			continue
		}
		if !strings.Contains(got.Error(), tt.want) || strings.Contains(got.Error(), "\n") {
			t.Errorf("Explain(%v) = %q, want one line containing %q", tt.err, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	cfg, err := Load(context.Background(), Options{EndpointURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:1" {
		t.Errorf("region %q, endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	cfg, err = Load(context.Background(), Options{Region: "eu-west-1"})
	if err != nil || cfg.Region != "eu-west-1" {
		t.Errorf("region %q, %v", cfg.Region, err)
	}
	if _, err := Load(context.Background(), Options{Profile: "no-such-profile"}); err == nil {
		t.Error("an unknown profile was accepted")
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-3": "aws", "cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
		"us-gov-west-1": "aws-us-gov", "": "aws",
	} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}
