package generate

import "strings"

// Control is a CIS AWS Foundations Benchmark monitoring control: a metric
// filter and alarm that trailalarm must fire on.
type Control struct {
	ID          string `json:"id"`                    // stable key across benchmark versions, as in cis-patterns.json's "topic"
	CIS         string `json:"cis"`                   // control number in CIS v1.2.0 (3.x); Organizations, added in v1.3.0, is 4.15
	SecurityHub string `json:"securityHub,omitempty"` // the Security Hub control checking the same filter, "" if none
	Title       string `json:"title"`
}

// Controls lists the CIS monitoring controls in benchmark order.
var Controls = []Control{
	{"unauthorized_api_calls", "3.1", "CloudWatch.2", "Unauthorized API calls"},
	{"console_signin_without_mfa", "3.2", "CloudWatch.3", "Management Console sign-in without MFA"},
	{"root_usage", "3.3", "CloudWatch.1", "Usage of the root account"},
	{"iam_policy_changes", "3.4", "CloudWatch.4", "IAM policy changes"},
	{"cloudtrail_config_changes", "3.5", "CloudWatch.5", "CloudTrail configuration changes"},
	{"console_auth_failures", "3.6", "CloudWatch.6", "Management Console authentication failures"},
	{"cmk_disable_or_scheduled_deletion", "3.7", "CloudWatch.7", "Disabling or scheduled deletion of customer managed keys"},
	{"s3_bucket_policy_changes", "3.8", "CloudWatch.8", "S3 bucket policy changes"},
	{"aws_config_changes", "3.9", "CloudWatch.9", "AWS Config configuration changes"},
	{"security_group_changes", "3.10", "CloudWatch.10", "Security group changes"},
	{"nacl_changes", "3.11", "CloudWatch.11", "Network ACL changes"},
	{"network_gateway_changes", "3.12", "CloudWatch.12", "Network gateway changes"},
	{"route_table_changes", "3.13", "CloudWatch.13", "Route table changes"},
	{"vpc_changes", "3.14", "CloudWatch.14", "VPC changes"},
	{"organizations_changes", "4.15", "", "AWS Organizations changes"},
}

// variant is one way to write an event for a control: a hit or a near-miss.
type variant struct {
	global bool // only in the home region (IAM, Organizations, console sign-in)
	make   func(g *gen) *call
}

// controlEvents holds, per control (index into Controls), the events that
// its CIS filter matches and near-misses: the same APIs in a shape that it
// must not match. Every hit is matched by its own control's filter only, and a
// near-miss by none, so that tests can count exactly.
type controlEvents struct {
	hits, near []variant
	global     bool // every hit needs the home region
}

var controlCatalog []controlEvents

func init() {
	controlCatalog = []controlEvents{
		unauthorizedEvents(),
		consoleNoMFAEvents(),
		rootEvents(),
		iamPolicyEvents(),
		cloudTrailEvents(),
		consoleFailureEvents(),
		kmsEvents(),
		s3PolicyEvents(),
		configEvents(),
		securityGroupEvents(),
		naclEvents(),
		gatewayEvents(),
		routeEvents(),
		vpcEvents(),
		orgEvents(),
	}
	for i := range controlCatalog {
		ce := &controlCatalog[i]
		ce.global = true
		for _, v := range ce.hits {
			ce.global = ce.global && v.global
		}
	}
}

// simple makes a variant of template t called by a principal of kinds w.
func simple(t *tmpl, w who) variant {
	return variant{global: t.global, make: func(g *gen) *call {
		return &call{t: t, p: g.pickPrincipal(w)}
	}}
}

// failing makes a variant of t that fails with code; msg may use {arn},
// {action} and {resource}.
func failing(t *tmpl, w who, code, msg, action, resource string) variant {
	return variant{global: t.global, make: func(g *gen) *call {
		p := g.pickPrincipal(w)
		m := strings.NewReplacer("{arn}", p.arn, "{action}", action, "{resource}", strings.ReplaceAll(resource, "{acct}", g.a.id)).Replace(msg)
		if strings.Contains(m, "Encoded authorization failure message") {
			m += string(g.r.appendChars(nil, alnum+"-_", 180))
		}
		return &call{t: t, p: p, errCode: code, errMsg: m}
	}}
}

func findTmpl(name string) *tmpl {
	for _, t := range background {
		if t.name == name {
			return t
		}
	}
	panic("generate: no background template " + name)
}

func writes(source, name string, w who, body func(*gen, []byte) []byte) variant {
	return simple(api(source, name, 0, w, body), w)
}

const (
	ec2Denied = "You are not authorized to perform this operation. User: {arn} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action. Encoded authorization failure message: "
	iamDenied = "User: {arn} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
)

func unauthorizedEvents() controlEvents {
	runDenied := api("ec2.amazonaws.com", "RunInstances", 0, workload, func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"instancesSet":{"items":[{"imageId":"ami-`...)
		b = g.r.appendHex(b, 17)
		b = append(b, `","minCount":1,"maxCount":1}]},"instanceType":"p4d.24xlarge","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false},"responseElements":null`...)
		return b
	})
	createUser := api("iam.amazonaws.com", "CreateUser", 0, workload, func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"userName":"backup-`...)
		b = g.r.appendChars(b, "abcdefghijklmnopqrstuvwxyz", 6)
		return append(b, `"},"responseElements":null`...)
	})
	wk := workload | ci | human
	return controlEvents{
		hits: []variant{
			failing(findTmpl("DescribeInstances"), wk, "Client.UnauthorizedOperation", ec2Denied, "ec2:DescribeInstances", "*"),
			failing(runDenied, workload|human, "Client.UnauthorizedOperation", ec2Denied, "ec2:RunInstances", "arn:aws:ec2:*:{acct}:instance/*"),
			failing(findTmpl("ListBuckets"), wk, "AccessDenied", "Access Denied", "", ""),
			failing(findTmpl("GetObject"), workload|human, "AccessDenied", "Access Denied", "", ""),
			failing(findTmpl("ListUsers"), workload|human, "AccessDenied", iamDenied, "iam:ListUsers", "arn:aws:iam::{acct}:user/"),
			failing(createUser, workload|human, "AccessDenied", iamDenied, "iam:CreateUser", "arn:aws:iam::{acct}:user/backup"),
			failing(findTmpl("GetSecretValue"), workload|human, "AccessDenied", iamDenied, "secretsmanager:GetSecretValue", "*"),
			failing(findTmpl("Decrypt"), workload, "AccessDeniedException", iamDenied, "kms:Decrypt", "*"),
			failing(findTmpl("DescribeTable"), workload|human, "AccessDeniedException", iamDenied, "dynamodb:DescribeTable", "*"),
			failing(findTmpl("ListFunctions20150331"), human, "AccessDeniedException", iamDenied, "lambda:ListFunctions", "*"),
		},
		near: []variant{
			failing(findTmpl("DescribeInstances"), wk, "Client.RequestLimitExceeded", "Request limit exceeded.", "", ""),
			failing(findTmpl("DescribeInstances"), wk, "Client.InvalidInstanceID.NotFound", "The instance ID 'i-0a1b2c3d4e5f67890' does not exist", "", ""),
			failing(findTmpl("GetSecretValue"), workload, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.", "", ""),
			failing(findTmpl("GetRole"), ci, "NoSuchEntityException", "The role with name deploy-temp cannot be found.", "", ""),
			failing(findTmpl("Decrypt"), workload, "ThrottlingException", "Rate exceeded", "", ""),
			failing(findTmpl("GetBucketPolicy"), ci, "NoSuchBucketPolicy", "The bucket policy does not exist", "", ""),
		},
	}
}

func consoleLogin(users func(a *account) []*principal, failed bool, mfa, errMsg string) variant {
	t := consoleLoginTmpl()
	return variant{global: true, make: func(g *gen) *call {
		p := pick(&g.r, users(g.a))
		c := &call{t: t, p: p, identity: p.login, mfa: mfa, loginOK: !failed, errMsg: errMsg, ua: pick(&g.r, browserUAs)}
		if failed {
			c.identity = p.loginFailed
			if c.identity == nil {
				c.identity = p.login
			}
		}
		return c
	}}
}

func consoleUsers(a *account) []*principal { return a.users }

func consoleNoMFAEvents() controlEvents {
	return controlEvents{
		hits: []variant{consoleLogin(consoleUsers, false, "No", "")},
		near: []variant{consoleLogin(consoleUsers, false, "Yes", "")},
	}
}

func consoleFailureEvents() controlEvents {
	return controlEvents{
		// A wrong password: CloudTrail says so in errorMessage, without errorCode.
		// MFAUsed is "Yes" or absent; "No" would also be a sign-in without MFA.
		hits: []variant{
			consoleLogin(consoleUsers, true, "Yes", "Failed authentication"),
			consoleLogin(consoleUsers, true, "", "Failed authentication"),
		},
		near: []variant{consoleLogin(consoleUsers, false, "Yes", "")},
	}
}

func rootEvents() controlEvents {
	asRoot := func(t *tmpl) variant {
		return variant{global: t.global, make: func(g *gen) *call {
			return &call{t: t, p: g.a.root}
		}}
	}
	viaService := func(t *tmpl) variant {
		return variant{global: t.global, make: func(g *gen) *call {
			return &call{t: t, p: pick(&g.r, g.a.rootSvc)}
		}}
	}
	rootLogin := consoleLogin(func(a *account) []*principal { return []*principal{a.root} }, false, "Yes", "")
	createKey := api("iam.amazonaws.com", "CreateAccessKey", 0, human, func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":null,"responseElements":{"accessKey":{"accessKeyId":"AKIA`...)
		b = append(b, g.a.key...)
		b = g.r.appendChars(b, base32Upper, 8)
		b = append(b, `","status":"Active","createDate":"`...)
		b = appendExpiration(b, g.t)
		return append(b, `"}}`...)
	})
	return controlEvents{
		hits: []variant{
			rootLogin,
			asRoot(findTmpl("GetAccountSummary")),
			asRoot(createKey),
			asRoot(findTmpl("ListBuckets")),
			asRoot(findTmpl("DescribeInstances")),
			asRoot(findTmpl("DescribeRegions")),
		},
		near: []variant{
			viaService(findTmpl("GetAccountSummary")),
			viaService(findTmpl("ListBuckets")),
			viaService(findTmpl("GetBucketLocation")),
		},
	}
}

func policyDoc(b []byte, action, resource string) []byte {
	b = append(b, `"{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": [\n        {\n            \"Effect\": \"Allow\",\n            \"Action\": \"`...)
	b = append(b, action...)
	b = append(b, `\",\n            \"Resource\": \"`...)
	b = append(b, resource...)
	return append(b, `\"\n        }\n    ]\n}"`...)
}

var managedPolicies = []string{"AdministratorAccess", "PowerUserAccess", "AmazonS3FullAccess", "IAMFullAccess", "ReadOnlyAccess", "AmazonEC2FullAccess"}

func iamPolicyEvents() controlEvents {
	who := ci | human
	attach := func(kind, nameKey string) func(*gen, []byte) []byte {
		return func(g *gen, b []byte) []byte {
			b = append(b, `"requestParameters":{"`...)
			b = append(b, nameKey...)
			b = append(b, `":"`...)
			switch kind {
			case "role":
				b = append(b, pick(&g.r, g.a.roles)...)
			case "user":
				b = append(b, pick(&g.r, g.a.iamUsers()).name...)
			default:
				b = append(b, pick(&g.r, []string{"developers", "admins", "data-engineers", "support"})...)
			}
			b = append(b, `","policyArn":"arn:aws:iam::aws:policy/`...)
			b = append(b, pick(&g.r, managedPolicies)...)
			return append(b, `"},"responseElements":null`...)
		}
	}
	inline := func(kind, nameKey string, put bool) func(*gen, []byte) []byte {
		return func(g *gen, b []byte) []byte {
			b = append(b, `"requestParameters":{"`...)
			b = append(b, nameKey...)
			b = append(b, `":"`...)
			if kind == "role" {
				b = append(b, pick(&g.r, g.a.roles)...)
			} else {
				b = append(b, pick(&g.r, g.a.iamUsers()).name...)
			}
			b = append(b, `","policyName":"`...)
			b = append(b, pick(&g.r, g.a.policies)...)
			if put {
				b = append(b, `","policyDocument":`...)
				b = policyDoc(b, pick(&g.r, []string{"s3:*", "*", "iam:PassRole", "kms:Decrypt", "sts:AssumeRole"}), "*")
				return append(b, `},"responseElements":null`...)
			}
			return append(b, `"},"responseElements":null`...)
		}
	}
	createPolicy := func(g *gen, b []byte) []byte {
		name := pick(&g.r, g.a.policies)
		b = append(b, `"requestParameters":{"policyName":"`...)
		b = append(b, name...)
		b = append(b, `","policyDocument":`...)
		b = policyDoc(b, "s3:GetObject", "arn:aws:s3:::"+pick(&g.r, g.a.buckets)+"/*")
		b = append(b, `},"responseElements":{"policy":{"policyName":"`...)
		b = append(b, name...)
		b = append(b, `","policyId":"ANPA`...)
		b = append(b, g.a.key...)
		b = g.r.appendChars(b, base32Upper, 9)
		b = append(b, `","arn":"arn:aws:iam::`...)
		b = append(b, g.a.id...)
		b = append(b, `:policy/`...)
		b = append(b, name...)
		b = append(b, `","path":"/","defaultVersionId":"v1","attachmentCount":0,"permissionsBoundaryUsageCount":0,"isAttachable":true,"createDate":"`...)
		b = appendExpiration(b, g.t)
		b = append(b, `","updateDate":"`...)
		b = appendExpiration(b, g.t)
		return append(b, `"}}`...)
	}
	createVersion := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"policyArn":"arn:aws:iam::`...)
		b = append(b, g.a.id...)
		b = append(b, `:policy/`...)
		b = append(b, pick(&g.r, g.a.policies)...)
		b = append(b, `","policyDocument":`...)
		b = policyDoc(b, "*", "*")
		b = append(b, `,"setAsDefault":true},"responseElements":{"policyVersion":{"versionId":"v`...)
		b = appendInt(b, 2+g.r.intn(4))
		b = append(b, `","isDefaultVersion":true,"createDate":"`...)
		b = appendExpiration(b, g.t)
		return append(b, `"}}`...)
	}
	return controlEvents{
		hits: []variant{
			writes("iam.amazonaws.com", "AttachRolePolicy", who, attach("role", "roleName")),
			writes("iam.amazonaws.com", "DetachRolePolicy", who, attach("role", "roleName")),
			writes("iam.amazonaws.com", "AttachUserPolicy", who, attach("user", "userName")),
			writes("iam.amazonaws.com", "AttachGroupPolicy", who, attach("group", "groupName")),
			writes("iam.amazonaws.com", "PutRolePolicy", who, inline("role", "roleName", true)),
			writes("iam.amazonaws.com", "PutUserPolicy", who, inline("user", "userName", true)),
			writes("iam.amazonaws.com", "DeleteRolePolicy", who, inline("role", "roleName", false)),
			writes("iam.amazonaws.com", "CreatePolicy", who, createPolicy),
			writes("iam.amazonaws.com", "CreatePolicyVersion", who, createVersion),
		},
		near: []variant{
			simple(findTmpl("GetRolePolicy"), ci),
			simple(findTmpl("ListAttachedRolePolicies"), ci),
			simple(findTmpl("GetPolicyVersion"), ci),
			simple(findTmpl("TagRole"), ci),
		},
	}
}

func trailARN(g *gen, b []byte) []byte {
	b = append(b, "arn:aws:cloudtrail:"...)
	b = append(b, g.region...)
	b = append(b, ':')
	b = append(b, g.a.id...)
	return append(b, ":trail/management-events"...)
}

func cloudTrailEvents() controlEvents {
	who := human | ci
	byName := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"name":"`...)
		b = trailARN(g, b)
		return append(b, `"},"responseElements":null`...)
	}
	trailResp := func(g *gen, b []byte) []byte {
		b = append(b, `"responseElements":{"name":"management-events","s3BucketName":"aws-cloudtrail-logs-`...)
		b = append(b, g.a.id...)
		b = append(b, `","includeGlobalServiceEvents":true,"isMultiRegionTrail":true,"trailARN":"`...)
		b = trailARN(g, b)
		return append(b, `","logFileValidationEnabled":false,"isOrganizationTrail":false}`...)
	}
	update := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"name":"management-events","s3BucketName":"aws-cloudtrail-logs-`...)
		b = append(b, g.a.id...)
		b = append(b, `","isMultiRegionTrail":true,"enableLogFileValidation":false},`...)
		return trailResp(g, b)
	}
	create := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"name":"management-events","s3BucketName":"aws-cloudtrail-logs-`...)
		b = append(b, g.a.id...)
		b = append(b, `","isMultiRegionTrail":true},`...)
		return trailResp(g, b)
	}
	eventSelectors := api("cloudtrail.amazonaws.com", "GetEventSelectors", 0, svcRole, trailNameParam)
	return controlEvents{
		hits: []variant{
			writes("cloudtrail.amazonaws.com", "StopLogging", who, byName),
			writes("cloudtrail.amazonaws.com", "StartLogging", who, byName),
			writes("cloudtrail.amazonaws.com", "DeleteTrail", who, byName),
			writes("cloudtrail.amazonaws.com", "UpdateTrail", who, update),
			writes("cloudtrail.amazonaws.com", "CreateTrail", who, create),
		},
		near: []variant{
			simple(findTmpl("DescribeTrails"), human),
			simple(findTmpl("GetTrailStatus"), human),
			simple(findTmpl("LookupEvents"), human),
			simple(eventSelectors, svcRole),
		},
	}
}

func kmsEvents() controlEvents {
	who := human | ci
	keyOnly := func(extra string) func(*gen, []byte) []byte {
		return func(g *gen, b []byte) []byte {
			key := pick(&g.r, g.a.keys)
			b = append(b, `"requestParameters":{"keyId":"`...)
			b = append(b, key...)
			b = append(b, '"')
			b = append(b, extra...)
			b = append(b, `},"responseElements":null`...)
			kmsResource(g, key)
			return b
		}
	}
	schedule := func(g *gen, b []byte) []byte {
		key := pick(&g.r, g.a.keys)
		days := 7 + g.r.intn(24)
		b = append(b, `"requestParameters":{"keyId":"`...)
		b = append(b, key...)
		b = append(b, `","pendingWindowInDays":`...)
		b = appendInt(b, days)
		b = append(b, `},"responseElements":{"keyId":"`...)
		b = kmsKeyARN(g, b, key)
		b = append(b, `","deletionDate":"`...)
		b = appendExpiration(b, (g.t/86400+int64(days)+1)*86400)
		b = append(b, `","keyState":"PendingDeletion","pendingWindowInDays":`...)
		b = appendInt(b, days)
		b = append(b, '}')
		kmsResource(g, key)
		return b
	}
	cancel := func(g *gen, b []byte) []byte {
		key := pick(&g.r, g.a.keys)
		b = append(b, `"requestParameters":{"keyId":"`...)
		b = append(b, key...)
		b = append(b, `"},"responseElements":{"keyId":"`...)
		b = kmsKeyARN(g, b, key)
		b = append(b, `"}`...)
		kmsResource(g, key)
		return b
	}
	return controlEvents{
		hits: []variant{
			writes("kms.amazonaws.com", "DisableKey", who, keyOnly("")),
			writes("kms.amazonaws.com", "ScheduleKeyDeletion", who, schedule),
		},
		near: []variant{
			writes("kms.amazonaws.com", "EnableKey", who, keyOnly("")),
			writes("kms.amazonaws.com", "CancelKeyDeletion", who, cancel),
			writes("kms.amazonaws.com", "DisableKeyRotation", who, keyOnly("")),
			simple(findTmpl("DescribeKey"), who),
		},
	}
}

// s3Config writes a bucket sub-resource call; body is the configuration
// document (JSON, without braces), "" for none.
func s3Config(sub, body string) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		bucket := pick(&g.r, g.a.buckets)
		g.host = bucket + ".s3." + g.region + ".amazonaws.com"
		b = append(b, `"requestParameters":{"bucketName":"`...)
		b = append(b, bucket...)
		b = append(b, `","Host":"`...)
		b = append(b, g.host...)
		b = append(b, `","`...)
		b = append(b, sub...)
		b = append(b, `":""`...)
		if body != "" {
			b = append(b, ',')
			b = append(b, strings.ReplaceAll(body, "{bucket}", bucket)...)
		}
		b = append(b, `},"responseElements":null`...)
		g.resource("AWS::S3::Bucket", "arn:aws:s3:::", bucket)
		return s3Extra(g, b, 200+g.r.intn(800), 0)
	}
}

func s3PolicyEvents() controlEvents {
	who := human | ci
	s3w := func(name string, body func(*gen, []byte) []byte) variant {
		t := api("s3.amazonaws.com", name, 0, who, body)
		t.reqID = reqS3
		t.ver = "1.09"
		return simple(t, who)
	}
	return controlEvents{
		hits: []variant{
			s3w("PutBucketPolicy", s3Config("policy", `"bucketPolicy":{"Version":"2012-10-17","Statement":[{"Sid":"AllowCloudFront","Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}]}`)),
			s3w("DeleteBucketPolicy", s3Config("policy", "")),
			s3w("PutBucketAcl", s3Config("acl", `"x-amz-acl":["public-read"]`)),
			s3w("PutBucketCors", s3Config("cors", `"CORSConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","CORSRule":{"AllowedMethod":["GET","HEAD"],"AllowedOrigin":["*"],"MaxAgeSeconds":3000}}`)),
			s3w("PutBucketLifecycle", s3Config("lifecycle", `"LifecycleConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","Rule":{"ID":"expire-tmp","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":30}}}`)),
			s3w("PutBucketReplication", s3Config("replication", `"ReplicationConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","Role":"arn:aws:iam::111122223333:role/s3-replication","Rule":{"Status":"Enabled","Priority":1,"Destination":{"Bucket":"arn:aws:s3:::{bucket}-replica"}}}`)),
			s3w("DeleteBucketCors", s3Config("cors", "")),
			s3w("DeleteBucketLifecycle", s3Config("lifecycle", "")),
			s3w("DeleteBucketReplication", s3Config("replication", "")),
		},
		near: []variant{
			simple(findTmpl("GetBucketPolicy"), who),
			simple(findTmpl("GetBucketAcl"), who),
			simple(findTmpl("PutBucketTagging"), ci),
			s3w("PutBucketEncryption", s3Config("encryption", `"ServerSideEncryptionConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","Rule":{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}}`)),
		},
	}
}

func configEvents() controlEvents {
	who := human | ci
	recorderName := func(g *gen, b []byte) []byte {
		return append(b, `"requestParameters":{"configurationRecorderName":"default"},"responseElements":null`...)
	}
	putRecorder := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"configurationRecorder":{"name":"default","roleARN":"arn:aws:iam::`...)
		b = append(b, g.a.id...)
		return append(b, `:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig","recordingGroup":{"allSupported":false,"includeGlobalResourceTypes":false,"resourceTypes":["AWS::EC2::Instance"]}}},"responseElements":null`...)
	}
	channelName := func(g *gen, b []byte) []byte {
		return append(b, `"requestParameters":{"deliveryChannelName":"default"},"responseElements":null`...)
	}
	putChannel := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"deliveryChannel":{"name":"default","s3BucketName":"config-bucket-`...)
		b = append(b, g.a.id...)
		return append(b, `","configSnapshotDeliveryProperties":{"deliveryFrequency":"TwentyFour_Hours"}}},"responseElements":null`...)
	}
	return controlEvents{
		hits: []variant{
			writes("config.amazonaws.com", "StopConfigurationRecorder", who, recorderName),
			writes("config.amazonaws.com", "PutConfigurationRecorder", who, putRecorder),
			writes("config.amazonaws.com", "DeleteDeliveryChannel", who, channelName),
			writes("config.amazonaws.com", "PutDeliveryChannel", who, putChannel),
		},
		near: []variant{
			writes("config.amazonaws.com", "StartConfigurationRecorder", who, recorderName),
			simple(findTmpl("DescribeConfigurationRecorderStatus"), svcRole),
			writes("config.amazonaws.com", "DescribeDeliveryChannels", who, nullReq),
		},
	}
}

// ec2Write builds an EC2 mutating call whose response is {"requestId":…,"_return":true}
// unless resp writes something else.
func ec2Write(name string, w who, req func(*gen, []byte) []byte, resp func(*gen, []byte) []byte) variant {
	return writes("ec2.amazonaws.com", name, w, func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":`...)
		b = req(g, b)
		b = append(b, `,"responseElements":{"requestId":"`...)
		b = g.r.appendUUID(b)
		b = append(b, '"')
		if resp != nil {
			b = append(b, ',')
			b = resp(g, b)
		} else {
			b = append(b, `,"_return":true`...)
		}
		return append(b, '}')
	})
}

func kv(key string, val func(a *account) []string) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		b = append(b, `{"`...)
		b = append(b, key...)
		b = append(b, `":"`...)
		b = append(b, pick(&g.r, val(g.a))...)
		return append(b, `"}`...)
	}
}

func newID(key, prefix string) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		b = append(b, `"_return":true,"`...)
		b = append(b, key...)
		b = append(b, `":"`...)
		b = append(b, prefix...)
		b = g.r.appendHex(b, 17)
		return append(b, '"')
	}
}

var (
	sgs     = func(a *account) []string { return a.sgs }
	vpcs    = func(a *account) []string { return a.vpcs }
	nacls   = func(a *account) []string { return a.nacls }
	igws    = func(a *account) []string { return a.igws }
	rtbs    = func(a *account) []string { return a.rtbs }
	subnets = func(a *account) []string { return a.subnets }
)

func sgRule(egress bool) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		b = append(b, `{"groupId":"`...)
		b = append(b, pick(&g.r, g.a.sgs)...)
		b = append(b, `","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":`...)
		port := pick(&g.r, []int{22, 3389, 443, 5432, 6379, 8080})
		b = appendInt(b, port)
		b = append(b, `,"toPort":`...)
		b = appendInt(b, port)
		b = append(b, `,"groups":{},"ipRanges":{"items":[{"cidrIp":"`...)
		b = append(b, pick(&g.r, []string{"0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24"})...)
		return append(b, `"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`...)
	}
}

func sgRuleResp(g *gen, b []byte) []byte {
	b = append(b, `"_return":true,"securityGroupRuleSet":{"items":[{"groupOwnerId":"`...)
	b = append(b, g.a.id...)
	b = append(b, `","securityGroupRuleId":"sgr-`...)
	b = g.r.appendHex(b, 17)
	return append(b, `","isEgress":false,"ipProtocol":"tcp"}]}`...)
}

func securityGroupEvents() controlEvents {
	who := human | ci
	createSG := func(g *gen, b []byte) []byte {
		b = append(b, `{"groupName":"`...)
		b = append(b, pick(&g.r, apps)...)
		b = append(b, `-sg","groupDescription":"managed by terraform","vpcId":"`...)
		b = append(b, pick(&g.r, g.a.vpcs)...)
		return append(b, `"}`...)
	}
	describeRules := api("ec2.amazonaws.com", "DescribeSecurityGroupRules", 0, who, describeFilters("securityGroupRuleIdSet"))
	return controlEvents{
		hits: []variant{
			ec2Write("AuthorizeSecurityGroupIngress", who, sgRule(false), sgRuleResp),
			ec2Write("AuthorizeSecurityGroupEgress", who, sgRule(true), sgRuleResp),
			ec2Write("RevokeSecurityGroupIngress", who, sgRule(false), nil),
			ec2Write("RevokeSecurityGroupEgress", who, sgRule(true), nil),
			ec2Write("CreateSecurityGroup", who, createSG, newID("groupId", "sg-")),
			ec2Write("DeleteSecurityGroup", who, kv("groupId", sgs), nil),
		},
		near: []variant{
			simple(findTmpl("DescribeSecurityGroups"), who),
			simple(describeRules, who),
		},
	}
}

func naclEvents() controlEvents {
	who := human | ci
	entry := func(g *gen, b []byte) []byte {
		b = append(b, `{"networkAclId":"`...)
		b = append(b, pick(&g.r, g.a.nacls)...)
		b = append(b, `","ruleNumber":`...)
		b = appendInt(b, 100*(1+g.r.intn(9)))
		b = append(b, `,"egress":false,"ruleAction":"`...)
		b = append(b, pick(&g.r, []string{"allow", "deny"})...)
		return append(b, `","icmpTypeCode":{},"portRange":{"from":22,"to":22},"aclProtocol":"6","cidrBlock":"0.0.0.0/0"}`...)
	}
	delEntry := func(g *gen, b []byte) []byte {
		b = append(b, `{"networkAclId":"`...)
		b = append(b, pick(&g.r, g.a.nacls)...)
		return append(b, `","ruleNumber":100,"egress":false}`...)
	}
	newACL := func(g *gen, b []byte) []byte {
		b = append(b, `"networkAcl":{"networkAclId":"acl-`...)
		b = g.r.appendHex(b, 17)
		b = append(b, `","vpcId":"`...)
		b = append(b, pick(&g.r, g.a.vpcs)...)
		return append(b, `","default":false,"entrySet":{},"associationSet":{},"tagSet":{}}`...)
	}
	assoc := func(g *gen, b []byte) []byte {
		b = append(b, `{"associationId":"aclassoc-`...)
		b = g.r.appendHex(b, 17)
		b = append(b, `","networkAclId":"`...)
		b = append(b, pick(&g.r, g.a.nacls)...)
		return append(b, `"}`...)
	}
	return controlEvents{
		hits: []variant{
			ec2Write("CreateNetworkAclEntry", who, entry, nil),
			ec2Write("ReplaceNetworkAclEntry", who, entry, nil),
			ec2Write("DeleteNetworkAclEntry", who, delEntry, nil),
			ec2Write("CreateNetworkAcl", who, kv("vpcId", vpcs), newACL),
			ec2Write("DeleteNetworkAcl", who, kv("networkAclId", nacls), nil),
			ec2Write("ReplaceNetworkAclAssociation", who, assoc, newID("newAssociationId", "aclassoc-")),
		},
		near: []variant{
			writes("ec2.amazonaws.com", "DescribeNetworkAcls", who, describeIDs("networkAclIdSet", "networkAclId", nacls)),
		},
	}
}

func gatewayEvents() controlEvents {
	who := human | ci
	attach := func(g *gen, b []byte) []byte {
		b = append(b, `{"internetGatewayId":"`...)
		b = append(b, pick(&g.r, g.a.igws)...)
		b = append(b, `","vpcId":"`...)
		b = append(b, pick(&g.r, g.a.vpcs)...)
		return append(b, `"}`...)
	}
	newIGW := func(g *gen, b []byte) []byte {
		b = append(b, `"internetGateway":{"internetGatewayId":"igw-`...)
		b = g.r.appendHex(b, 17)
		b = append(b, `","ownerId":"`...)
		b = append(b, g.a.id...)
		return append(b, `","attachmentSet":{},"tagSet":{}}`...)
	}
	cgwReq := func(g *gen, b []byte) []byte {
		b = append(b, `{"type":"ipsec.1","ipAddress":"`...)
		b = append(b, ips(&g.r, publicOctets, 1)[0]...)
		return append(b, `","bgpAsn":65000}`...)
	}
	cgwResp := func(g *gen, b []byte) []byte {
		b = append(b, `"customerGateway":{"customerGatewayId":"cgw-`...)
		b = g.r.appendHex(b, 17)
		return append(b, `","state":"available","type":"ipsec.1","bgpAsn":"65000"}`...)
	}
	cgwDel := func(g *gen, b []byte) []byte {
		b = append(b, `{"customerGatewayId":"cgw-`...)
		b = g.r.appendHex(b, 17)
		return append(b, `"}`...)
	}
	return controlEvents{
		hits: []variant{
			ec2Write("CreateInternetGateway", who, func(g *gen, b []byte) []byte { return append(b, "{}"...) }, newIGW),
			ec2Write("AttachInternetGateway", who, attach, nil),
			ec2Write("DetachInternetGateway", who, attach, nil),
			ec2Write("DeleteInternetGateway", who, kv("internetGatewayId", igws), nil),
			ec2Write("CreateCustomerGateway", who, cgwReq, cgwResp),
			ec2Write("DeleteCustomerGateway", who, cgwDel, nil),
		},
		near: []variant{
			writes("ec2.amazonaws.com", "DescribeInternetGateways", who, describeIDs("internetGatewayIdSet", "internetGatewayId", igws)),
			writes("ec2.amazonaws.com", "DescribeCustomerGateways", who, describeFilters("customerGatewaySet")),
			writes("ec2.amazonaws.com", "DescribeNatGateways", who, describeFilters("natGatewayIdSet")),
		},
	}
}

func routeEvents() controlEvents {
	who := human | ci
	route := func(g *gen, b []byte) []byte {
		b = append(b, `{"routeTableId":"`...)
		b = append(b, pick(&g.r, g.a.rtbs)...)
		b = append(b, `","destinationCidrBlock":"0.0.0.0/0","gatewayId":"`...)
		b = append(b, pick(&g.r, g.a.igws)...)
		return append(b, `"}`...)
	}
	delRoute := func(g *gen, b []byte) []byte {
		b = append(b, `{"routeTableId":"`...)
		b = append(b, pick(&g.r, g.a.rtbs)...)
		return append(b, `","destinationCidrBlock":"0.0.0.0/0"}`...)
	}
	newRTB := func(g *gen, b []byte) []byte {
		b = append(b, `"routeTable":{"routeTableId":"rtb-`...)
		b = g.r.appendHex(b, 17)
		b = append(b, `","vpcId":"`...)
		b = append(b, pick(&g.r, g.a.vpcs)...)
		b = append(b, `","ownerId":"`...)
		b = append(b, g.a.id...)
		return append(b, `","routeSet":{"items":[{"destinationCidrBlock":"10.0.0.0/16","gatewayId":"local","state":"active","origin":"CreateRouteTable"}]},"associationSet":{},"propagatingVgwSet":{},"tagSet":{}}`...)
	}
	assocID := func(withTable bool) func(*gen, []byte) []byte {
		return func(g *gen, b []byte) []byte {
			b = append(b, `{"associationId":"rtbassoc-`...)
			b = g.r.appendHex(b, 17)
			if withTable {
				b = append(b, `","routeTableId":"`...)
				b = append(b, pick(&g.r, g.a.rtbs)...)
			}
			return append(b, `"}`...)
		}
	}
	newAssoc := func(g *gen, b []byte) []byte {
		b = append(b, `"newAssociationId":"rtbassoc-`...)
		b = g.r.appendHex(b, 17)
		return append(b, `","associationState":{"state":"associated"}`...)
	}
	associate := func(g *gen, b []byte) []byte {
		b = append(b, `{"routeTableId":"`...)
		b = append(b, pick(&g.r, g.a.rtbs)...)
		b = append(b, `","subnetId":"`...)
		b = append(b, pick(&g.r, g.a.subnets)...)
		return append(b, `"}`...)
	}
	return controlEvents{
		hits: []variant{
			ec2Write("CreateRoute", who, route, nil),
			ec2Write("ReplaceRoute", who, route, nil),
			ec2Write("DeleteRoute", who, delRoute, nil),
			ec2Write("CreateRouteTable", who, kv("vpcId", vpcs), newRTB),
			ec2Write("DeleteRouteTable", who, kv("routeTableId", rtbs), nil),
			ec2Write("DisassociateRouteTable", who, assocID(false), nil),
			ec2Write("ReplaceRouteTableAssociation", who, assocID(true), newAssoc),
		},
		near: []variant{
			simple(findTmpl("DescribeRouteTables"), who),
			ec2Write("AssociateRouteTable", who, associate, newAssoc),
		},
	}
}

func vpcEvents() controlEvents {
	who := human | ci
	createVPC := func(g *gen, b []byte) []byte {
		b = append(b, `{"cidrBlock":"10.`...)
		b = appendInt(b, g.r.intn(256))
		return append(b, `.0.0/16","instanceTenancy":"default","amazonProvidedIpv6CidrBlock":false}`...)
	}
	newVPC := func(g *gen, b []byte) []byte {
		b = append(b, `"vpc":{"vpcId":"vpc-`...)
		b = g.r.appendHex(b, 17)
		b = append(b, `","state":"pending","ownerId":"`...)
		b = append(b, g.a.id...)
		b = append(b, `","dhcpOptionsId":"dopt-`...)
		b = g.r.appendHex(b, 17)
		return append(b, `","instanceTenancy":"default","ipv6CidrBlockAssociationSet":{},"tagSet":{},"isDefault":false}`...)
	}
	modify := func(g *gen, b []byte) []byte {
		b = append(b, `{"vpcId":"`...)
		b = append(b, pick(&g.r, g.a.vpcs)...)
		b = append(b, `","`...)
		b = append(b, pick(&g.r, []string{"enableDnsHostnames", "enableDnsSupport"})...)
		return append(b, `":{"value":true}}`...)
	}
	peer := func(g *gen, b []byte) []byte {
		b = append(b, `{"vpcId":"`...)
		b = append(b, pick(&g.r, g.a.vpcs)...)
		b = append(b, `","peerVpcId":"vpc-`...)
		b = g.r.appendHex(b, 17)
		b = append(b, `","peerOwnerId":"`...)
		b = append(b, g.a.peerAcct...)
		return append(b, `"}`...)
	}
	newPeer := func(g *gen, b []byte) []byte {
		b = append(b, `"vpcPeeringConnection":{"vpcPeeringConnectionId":"pcx-`...)
		b = g.r.appendHex(b, 17)
		return append(b, `","status":{"code":"initiating-request","message":"Initiating Request"},"tagSet":{}}`...)
	}
	pcx := func(g *gen, b []byte) []byte {
		b = append(b, `{"vpcPeeringConnectionId":"pcx-`...)
		b = g.r.appendHex(b, 17)
		return append(b, `"}`...)
	}
	describeAttr := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"vpcId":"`...)
		b = append(b, pick(&g.r, g.a.vpcs)...)
		return append(b, `","attribute":"enableDnsSupport"},"responseElements":null`...)
	}
	return controlEvents{
		hits: []variant{
			ec2Write("CreateVpc", who, createVPC, newVPC),
			ec2Write("DeleteVpc", who, kv("vpcId", vpcs), nil),
			ec2Write("ModifyVpcAttribute", who, modify, nil),
			ec2Write("CreateVpcPeeringConnection", who, peer, newPeer),
			ec2Write("AcceptVpcPeeringConnection", who, pcx, newPeer),
			ec2Write("DeleteVpcPeeringConnection", who, pcx, nil),
			ec2Write("RejectVpcPeeringConnection", who, pcx, nil),
		},
		near: []variant{
			simple(findTmpl("DescribeVpcs"), who),
			writes("ec2.amazonaws.com", "DescribeVpcAttribute", who, describeAttr),
			writes("ec2.amazonaws.com", "DescribeVpcPeeringConnections", who, describeFilters("vpcPeeringConnectionId")),
		},
	}
}

func orgEvents() controlEvents {
	who := human | ci
	org := func(name string, body func(*gen, []byte) []byte) variant {
		return writes("organizations.amazonaws.com", name, who, body)
	}
	policyTarget := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"policyId":"p-`...)
		b = g.r.appendChars(b, "abcdefghijklmnopqrstuvwxyz0123456789", 8)
		b = append(b, `","targetId":"`...)
		b = append(b, pick(&g.r, g.a.ous)...)
		return append(b, `"},"responseElements":null`...)
	}
	createAccount := func(g *gen, b []byte) []byte {
		name := "sandbox-" + string(g.r.appendChars(nil, "abcdefghijklmnopqrstuvwxyz", 5))
		b = append(b, `"requestParameters":{"accountName":"`...)
		b = append(b, name...)
		b = append(b, `","email":"aws+`...)
		b = append(b, name...)
		b = append(b, `@example.com"},"responseElements":{"createAccountStatus":{"id":"car-`...)
		b = g.r.appendHex(b, 32)
		b = append(b, `","accountName":"`...)
		b = append(b, name...)
		b = append(b, `","state":"IN_PROGRESS","requestedTimestamp":"`...)
		b = appendExpiration(b, g.t)
		return append(b, `"}}`...)
	}
	invite := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"target":{"id":"`...)
		b = append(b, g.a.peerAcct...)
		b = append(b, `","type":"ACCOUNT"}},"responseElements":{"handshake":{"id":"h-`...)
		b = g.r.appendHex(b, 32)
		b = append(b, `","state":"OPEN","action":"INVITE","requestedTimestamp":"`...)
		b = appendExpiration(b, g.t)
		return append(b, `"}}`...)
	}
	move := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"accountId":"`...)
		b = append(b, g.a.peerAcct...)
		b = append(b, `","sourceParentId":"r-`...)
		b = append(b, g.a.orgID[2:6]...)
		b = append(b, `","destinationParentId":"`...)
		b = append(b, pick(&g.r, g.a.ous)...)
		return append(b, `"},"responseElements":null`...)
	}
	createOU := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"parentId":"r-`...)
		b = append(b, g.a.orgID[2:6]...)
		b = append(b, `","name":"Sandbox"},"responseElements":{"organizationalUnit":{"id":"ou-`...)
		b = g.r.appendChars(b, "abcdefghijklmnopqrstuvwxyz0123456789", 8)
		b = append(b, `","arn":"arn:aws:organizations::`...)
		b = append(b, g.a.id...)
		b = append(b, `:ou/`...)
		b = append(b, g.a.orgID...)
		return append(b, `/ou-sandbox","name":"Sandbox"}}`...)
	}
	enableType := func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"rootId":"r-`...)
		b = append(b, g.a.orgID[2:6]...)
		return append(b, `","policyType":"SERVICE_CONTROL_POLICY"},"responseElements":null`...)
	}
	leave := func(g *gen, b []byte) []byte {
		return append(b, `"requestParameters":null,"responseElements":null`...)
	}
	listPolicies := func(g *gen, b []byte) []byte {
		return append(b, `"requestParameters":{"filter":"SERVICE_CONTROL_POLICY"},"responseElements":null`...)
	}
	return controlEvents{
		hits: []variant{
			org("AttachPolicy", policyTarget),
			org("DetachPolicy", policyTarget),
			org("CreateAccount", createAccount),
			org("InviteAccountToOrganization", invite),
			org("MoveAccount", move),
			org("CreateOrganizationalUnit", createOU),
			org("EnablePolicyType", enableType),
			org("LeaveOrganization", leave),
		},
		near: []variant{
			simple(findTmpl("DescribeOrganization"), human),
			simple(findTmpl("ListAccounts"), human),
			org("ListPolicies", listPolicies),
		},
	}
}
