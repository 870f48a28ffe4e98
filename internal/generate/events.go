package generate

import "strings"

// tmpl is one API as CloudTrail logs it: where it comes from, who calls it,
// how often, and a body function that writes requestParameters,
// responseElements and, where the API has them, additionalEventData and
// resources.
type tmpl struct {
	source    string // eventSource
	prefix    string // endpoint prefix, for the TLS host header
	name      string // eventName
	readOnly  bool
	weight    float64 // relative frequency among background events
	who       who     // kinds of principal that call it
	global    bool    // logged in us-east-1 (the home region) only: IAM, Organizations, sign-in
	data      bool    // a data event (S3 objects, Lambda Invoke, DynamoDB items)
	eventType string  // "" means AwsApiCall
	noTLS     bool    // service events and sign-in records written without TLS details
	host      string  // fixed TLS host header, "" for PREFIX.REGION.amazonaws.com
	reqID     int
	ver       string // eventVersion, "" for 1.09
	errs      []apiErr
	errRate   float64
	body      func(g *gen, b []byte) []byte
}

type apiErr struct{ code, msg string }

const (
	reqUUID = iota
	reqS3
	reqNone
)

func (t *tmpl) version() string {
	if t.ver != "" {
		return t.ver
	}
	return "1.09"
}

var readPrefixes = []string{"Describe", "Get", "List", "Lookup", "Head", "BatchGet", "Query", "Scan", "Filter", "Search", "Check"}

// api builds a template; read-only-ness follows from the name, the region
// scope from the service.
func api(source, name string, weight float64, w who, body func(*gen, []byte) []byte) *tmpl {
	t := &tmpl{source: source, name: name, weight: weight, who: w, body: body}
	t.prefix = strings.TrimSuffix(source, ".amazonaws.com")
	for _, p := range readPrefixes {
		if strings.HasPrefix(name, p) {
			t.readOnly = true
		}
	}
	switch name {
	case "AssumeRole", "Decrypt", "Encrypt", "GenerateDataKey":
		t.readOnly = true // as CloudTrail marks them
	}
	switch t.prefix {
	case "iam", "organizations", "route53", "health", "signin":
		t.global = true
		t.host = t.prefix + ".amazonaws.com"
	}
	return t
}

func (t *tmpl) fails(rate float64, errs ...apiErr) *tmpl {
	t.errRate, t.errs = rate, errs
	return t
}

var (
	errThrottle  = apiErr{"ThrottlingException", "Rate exceeded"}
	errEC2Limit  = apiErr{"Client.RequestLimitExceeded", "Request limit exceeded."}
	errNoEntity  = apiErr{"NoSuchEntityException", "The role with name deploy-temp cannot be found."}
	errNotFound  = apiErr{"ResourceNotFoundException", "Requested resource not found"}
	errNoPolicy  = apiErr{"NoSuchBucketPolicy", "The bucket policy does not exist"}
	errNoTags    = apiErr{"NoSuchTagSet", "The TagSet does not exist"}
	errNoParam   = apiErr{"ParameterNotFound", ""}
	errCondCheck = apiErr{"ConditionalCheckFailedException", "The conditional request failed"}
	errNoInst    = apiErr{"Client.InvalidInstanceID.NotFound", "The instance ID 'i-0a1b2c3d4e5f67890' does not exist"}
	errNoSecret  = apiErr{"ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
)

func nullBody(g *gen, b []byte) []byte {
	return append(b, `"requestParameters":null,"responseElements":null`...)
}

// background is the catalogue of everyday calls, weighted roughly as they
// appear in busy production accounts: reads dominate, data events are
// frequent, writes are few. None of them is matched by a CIS metric filter.
var background = []*tmpl{
	// STS
	api("sts.amazonaws.com", "AssumeRole", 60, service|workload|ci|human, assumeRoleBody),
	api("sts.amazonaws.com", "GetCallerIdentity", 14, human|ci|workload, nullBody),
	// EC2
	api("ec2.amazonaws.com", "DescribeInstances", 40, human|workload|ci|svcRole, describeInstances).fails(0.01, errEC2Limit, errNoInst),
	api("ec2.amazonaws.com", "DescribeInstanceStatus", 14, workload|svcRole|human, describeInstanceStatus),
	api("ec2.amazonaws.com", "DescribeSecurityGroups", 12, human|ci|svcRole, describeIDs("groupSet", "groupId", func(a *account) []string { return a.sgs })),
	api("ec2.amazonaws.com", "DescribeVpcs", 7, human|ci|svcRole, describeIDs("vpcSet", "vpcId", func(a *account) []string { return a.vpcs })),
	api("ec2.amazonaws.com", "DescribeSubnets", 9, human|ci|workload|svcRole, describeIDs("subnetSet", "subnetId", func(a *account) []string { return a.subnets })),
	api("ec2.amazonaws.com", "DescribeVolumes", 7, human|ci|svcRole, describeFilters("volumeSet")),
	api("ec2.amazonaws.com", "DescribeSnapshots", 3, human|ci, describeFilters("snapshotSet")),
	api("ec2.amazonaws.com", "DescribeImages", 5, human|ci|svcRole, describeImages),
	api("ec2.amazonaws.com", "DescribeNetworkInterfaces", 9, workload|svcRole|ci, describeFilters("networkInterfaceIdSet")),
	api("ec2.amazonaws.com", "DescribeRouteTables", 3, human|ci, describeIDs("routeTableIdSet", "routeTableId", func(a *account) []string { return a.rtbs })),
	api("ec2.amazonaws.com", "DescribeAvailabilityZones", 3, human|ci|workload, describeFilters("availabilityZoneSet")),
	api("ec2.amazonaws.com", "DescribeRegions", 2, human|ci, describeFilters("regionSet")),
	api("ec2.amazonaws.com", "DescribeTags", 4, workload|ci, describeFilters("tagSet")),
	api("ec2.amazonaws.com", "DescribeLaunchTemplates", 2, ci|svcRole, describeFilters("launchTemplateIdSet")),
	api("ec2.amazonaws.com", "CreateTags", 2, ci|human|svcRole, createTags),
	api("ec2.amazonaws.com", "RunInstances", 0.6, ci|svcRole, runInstances),
	api("ec2.amazonaws.com", "TerminateInstances", 0.4, ci|svcRole, instanceStateChange("terminateInstances", "shutting-down", 32)),
	api("ec2.amazonaws.com", "StopInstances", 0.3, human|ci, instanceStateChange("stopInstances", "stopping", 64)),
	api("ec2.amazonaws.com", "StartInstances", 0.3, human|ci, instanceStateChange("startInstances", "pending", 0)),
	api("ec2.amazonaws.com", "CreateNetworkInterface", 1.5, svcRole|service, createENI),
	api("ec2.amazonaws.com", "DeleteNetworkInterface", 1.2, svcRole|service, deleteENI),
	api("ec2.amazonaws.com", "CreateSnapshot", 0.4, ci|workload, createSnapshot),
	// S3, management and data events
	api("s3.amazonaws.com", "ListBuckets", 4, human|ci|svcRole, s3ListBuckets),
	api("s3.amazonaws.com", "GetBucketLocation", 9, human|ci|workload|svcRole, s3BucketOp("location", false)),
	api("s3.amazonaws.com", "GetBucketAcl", 6, svcRole|ci|human, s3BucketOp("acl", false)),
	api("s3.amazonaws.com", "GetBucketPolicy", 4, svcRole|ci|human, s3BucketOp("policy", false)).fails(0.4, errNoPolicy),
	api("s3.amazonaws.com", "GetBucketTagging", 3, svcRole|ci, s3BucketOp("tagging", false)).fails(0.3, errNoTags),
	api("s3.amazonaws.com", "GetBucketEncryption", 3, svcRole|ci, s3BucketOp("encryption", false)),
	api("s3.amazonaws.com", "GetBucketVersioning", 3, svcRole|ci|human, s3BucketOp("versioning", false)),
	api("s3.amazonaws.com", "GetBucketPublicAccessBlock", 3, svcRole|ci, s3BucketOp("publicAccessBlock", false)),
	api("s3.amazonaws.com", "PutBucketTagging", 0.3, ci, s3BucketOp("tagging", true)),
	s3Data("GetObject", 48, false),
	s3Data("PutObject", 22, false),
	s3Data("HeadObject", 9, true),
	s3Data("ListObjects", 9, true),
	s3Data("DeleteObject", 2, false),
	// IAM (global)
	api("iam.amazonaws.com", "GetUser", 3, human|ci, iamUserParam),
	api("iam.amazonaws.com", "ListUsers", 2, human|svcRole, nullReq),
	api("iam.amazonaws.com", "ListRoles", 3, human|ci|svcRole, nullReq),
	api("iam.amazonaws.com", "GetRole", 7, ci|svcRole|human, iamRoleParam).fails(0.05, errNoEntity),
	api("iam.amazonaws.com", "ListAttachedRolePolicies", 4, ci|svcRole, iamRoleParam),
	api("iam.amazonaws.com", "ListRolePolicies", 3, ci|svcRole, iamRoleParam),
	api("iam.amazonaws.com", "GetRolePolicy", 2, ci|svcRole, iamRolePolicyParam),
	api("iam.amazonaws.com", "GetPolicy", 3, ci|svcRole, iamPolicyParam(false)),
	api("iam.amazonaws.com", "GetPolicyVersion", 3, ci|svcRole, iamPolicyParam(true)),
	api("iam.amazonaws.com", "ListAccessKeys", 2, human|svcRole, iamUserParam),
	api("iam.amazonaws.com", "GetAccountSummary", 1, human|svcRole, nullBody),
	api("iam.amazonaws.com", "ListMFADevices", 1, human, iamUserParam),
	api("iam.amazonaws.com", "GetAccountPasswordPolicy", 0.5, svcRole|human, nullBody),
	api("iam.amazonaws.com", "GenerateCredentialReport", 0.3, svcRole, nullBody),
	api("iam.amazonaws.com", "TagRole", 0.3, ci, iamTagRole),
	// KMS
	api("kms.amazonaws.com", "Decrypt", 38, workload|svcRole|service, kmsCrypto("Decrypt")),
	api("kms.amazonaws.com", "GenerateDataKey", 22, workload|svcRole|service, kmsCrypto("GenerateDataKey")),
	api("kms.amazonaws.com", "Encrypt", 4, workload, kmsCrypto("Encrypt")),
	api("kms.amazonaws.com", "DescribeKey", 6, ci|svcRole|human, kmsKeyParam),
	api("kms.amazonaws.com", "ListAliases", 3, human|ci, nullReq),
	api("kms.amazonaws.com", "ListKeys", 1, human|svcRole, nullReq),
	api("kms.amazonaws.com", "GetKeyPolicy", 2, ci|svcRole, kmsKeyPolicy),
	api("kms.amazonaws.com", "GetKeyRotationStatus", 2, svcRole|ci, kmsKeyParam),
	kmsRotateKey,
	// Lambda
	lambdaInvoke,
	api("lambda.amazonaws.com", "GetFunction20150331v2", 3, ci|human, lambdaFnParam),
	api("lambda.amazonaws.com", "ListFunctions20150331", 3, human|svcRole|ci, nullReq),
	api("lambda.amazonaws.com", "GetFunctionConfiguration20150331v2", 2, ci|svcRole, lambdaFnParam),
	api("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", 0.3, ci, lambdaUpdateCode),
	// CloudWatch and CloudWatch Logs
	api("monitoring.amazonaws.com", "DescribeAlarms", 7, human|svcRole|ci, nullReq),
	api("monitoring.amazonaws.com", "GetMetricData", 11, human|svcRole|workload, getMetricData),
	api("monitoring.amazonaws.com", "ListMetrics", 3, human|svcRole, nullReq),
	api("monitoring.amazonaws.com", "GetMetricStatistics", 5, workload|svcRole, getMetricStatistics),
	api("monitoring.amazonaws.com", "PutMetricAlarm", 0.3, ci, putMetricAlarm),
	api("logs.amazonaws.com", "CreateLogStream", 14, workload, createLogStream).fails(0.02, apiErr{"ResourceAlreadyExistsException", "The specified log stream already exists"}),
	api("logs.amazonaws.com", "DescribeLogGroups", 4, human|ci|svcRole, nullReq),
	api("logs.amazonaws.com", "DescribeLogStreams", 4, human|workload, logGroupParam),
	api("logs.amazonaws.com", "FilterLogEvents", 2, human, logGroupParam),
	api("logs.amazonaws.com", "CreateLogGroup", 0.6, workload|ci, logGroupParam).fails(0.5, apiErr{"ResourceAlreadyExistsException", "The specified log group already exists"}),
	api("logs.amazonaws.com", "PutRetentionPolicy", 0.2, ci, logGroupParam),
	// DynamoDB
	api("dynamodb.amazonaws.com", "DescribeTable", 9, workload|ci|svcRole, ddbTableParam).fails(0.02, errNotFound),
	api("dynamodb.amazonaws.com", "ListTables", 2, human|svcRole, nullReq),
	api("dynamodb.amazonaws.com", "DescribeTimeToLive", 1, ci, ddbTableParam),
	api("dynamodb.amazonaws.com", "DescribeContinuousBackups", 1, ci|svcRole, ddbTableParam),
	ddbData("GetItem", 14),
	ddbData("PutItem", 9).fails(0.03, errCondCheck),
	ddbData("Query", 11),
	ddbData("UpdateItem", 5).fails(0.03, errCondCheck),
	// SSM, Secrets Manager
	api("ssm.amazonaws.com", "GetParameter", 9, workload|ci, ssmParam("name", false)).fails(0.02, errNoParam),
	api("ssm.amazonaws.com", "GetParameters", 5, workload|ci, ssmParam("names", false)),
	api("ssm.amazonaws.com", "GetParametersByPath", 3, workload, ssmParam("path", true)),
	api("ssm.amazonaws.com", "UpdateInstanceInformation", 11, workload, ssmUpdateInstanceInfo),
	api("ssm.amazonaws.com", "DescribeInstanceInformation", 2, human|svcRole, nullReq),
	api("secretsmanager.amazonaws.com", "GetSecretValue", 8, workload|ci, secretParam).fails(0.02, errNoSecret),
	api("secretsmanager.amazonaws.com", "DescribeSecret", 2, ci|svcRole, secretParam),
	api("secretsmanager.amazonaws.com", "ListSecrets", 1, human|svcRole, nullReq),
	// Queues, topics, containers, load balancers, databases, stacks
	api("sqs.amazonaws.com", "GetQueueAttributes", 4, workload|svcRole, sqsQueue),
	api("sqs.amazonaws.com", "ListQueues", 1, human|ci, nullReq),
	api("sns.amazonaws.com", "GetTopicAttributes", 2, ci|svcRole, snsTopic),
	api("sns.amazonaws.com", "ListTopics", 1, human|ci, nullReq),
	api("ecr.amazonaws.com", "GetAuthorizationToken", 6, workload|ci, ecrAuth),
	api("ecr.amazonaws.com", "BatchGetImage", 3, workload|svcRole, ecrImage),
	api("ecr.amazonaws.com", "GetDownloadUrlForLayer", 4, workload|svcRole, ecrLayer),
	api("ecs.amazonaws.com", "DescribeServices", 4, ci|svcRole|human, ecsCluster),
	api("ecs.amazonaws.com", "DescribeTasks", 3, svcRole|ci, ecsCluster),
	api("ecs.amazonaws.com", "DescribeClusters", 2, human|ci, ecsCluster),
	api("elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", 3, human|ci|svcRole, nullReq),
	api("elasticloadbalancing.amazonaws.com", "DescribeTargetHealth", 4, svcRole|ci, elbTargetHealth),
	api("autoscaling.amazonaws.com", "DescribeAutoScalingGroups", 4, svcRole|ci|human, nullReq),
	api("rds.amazonaws.com", "DescribeDBInstances", 3, human|ci|svcRole, nullReq),
	api("rds.amazonaws.com", "DescribeDBClusters", 2, human|ci, nullReq),
	api("cloudformation.amazonaws.com", "DescribeStacks", 4, ci|human, cfnStack),
	api("cloudformation.amazonaws.com", "ListStacks", 1, human|ci, nullReq),
	// Config rules report through PutEvaluations; the recorder itself is left alone.
	api("config.amazonaws.com", "PutEvaluations", 4, workload|svcRole, configEvaluations),
	api("config.amazonaws.com", "DescribeConfigRules", 1, human|svcRole, nullReq),
	api("config.amazonaws.com", "DescribeConfigurationRecorderStatus", 0.5, svcRole, nullReq),
	api("cloudtrail.amazonaws.com", "DescribeTrails", 1, human|svcRole, trailListParam),
	api("cloudtrail.amazonaws.com", "GetTrailStatus", 1, svcRole|human, trailNameParam),
	api("cloudtrail.amazonaws.com", "LookupEvents", 1, human, lookupEvents),
	api("guardduty.amazonaws.com", "ListDetectors", 1, svcRole|human, nullReq),
	api("securityhub.amazonaws.com", "GetFindings", 1, human|svcRole, nullReq),
	// Global services
	api("organizations.amazonaws.com", "DescribeOrganization", 1, human|svcRole, nullReq),
	api("organizations.amazonaws.com", "ListAccounts", 0.4, human|svcRole, nullReq),
	api("route53.amazonaws.com", "ListHostedZones", 1, human|ci, nullReq),
	api("route53.amazonaws.com", "GetChange", 0.5, ci, route53Change),
	api("health.amazonaws.com", "DescribeEventAggregates", 1, human, healthAggregates),
	consoleLoginMFA,
}

// Most read APIs log an empty or trivial request and no response.
func nullReq(g *gen, b []byte) []byte {
	return append(b, `"requestParameters":{},"responseElements":null`...)
}

func assumeRoleBody(g *gen, b []byte) []byte {
	role := pick(&g.r, g.a.roles)
	b = append(b, `"requestParameters":{"roleArn":"arn:aws:iam::`...)
	b = append(b, g.a.id...)
	b = append(b, `:role/`...)
	b = append(b, role...)
	b = append(b, `","roleSessionName":"`...)
	sess := len(b)
	b = g.r.appendChars(b, alnum, 12)
	session := string(b[sess:])
	b = append(b, `","durationSeconds":3600},"responseElements":{"credentials":{"accessKeyId":"ASIA`...)
	b = append(b, g.a.key...)
	b = g.r.appendChars(b, base32Upper, 8)
	b = append(b, `","sessionToken":"IQoJb3JpZ2luX2VjE`...)
	b = g.r.appendChars(b, base64Chars, 160)
	b = append(b, `","expiration":"`...)
	b = appendExpiration(b, g.t+3600)
	b = append(b, `"},"assumedRoleUser":{"assumedRoleId":"AROA`...)
	b = append(b, g.a.key...)
	b = g.r.appendChars(b, base32Upper, 9)
	b = append(b, ':')
	b = append(b, session...)
	b = append(b, `","arn":"arn:aws:sts::`...)
	b = append(b, g.a.id...)
	b = append(b, `:assumed-role/`...)
	b = append(b, role...)
	b = append(b, '/')
	b = append(b, session...)
	b = append(b, `"}}`...)
	g.resource("AWS::IAM::Role", "arn:aws:iam::"+g.a.id+":role/", role)
	g.shared = g.c.p.kind == service
	return b
}

func describeInstances(g *gen, b []byte) []byte {
	if g.r.intn(2) == 0 {
		b = append(b, `"requestParameters":{"instancesSet":{"items":[{"instanceId":"`...)
		b = append(b, pick(&g.r, g.a.insts)...)
		return append(b, `"}]},"filterSet":{}},"responseElements":null`...)
	}
	b = append(b, `"requestParameters":{"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"},{"value":"pending"}]}}]}},"responseElements":null`...)
	return b
}

func describeInstanceStatus(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"instancesSet":{"items":[{"instanceId":"`...)
	b = append(b, pick(&g.r, g.a.insts)...)
	return append(b, `"}]},"filterSet":{},"includeAllInstances":false},"responseElements":null`...)
}

func describeIDs(set, key string, ids func(*account) []string) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"`...)
		b = append(b, set...)
		b = append(b, `":{`...)
		if g.r.intn(3) == 0 {
			b = append(b, `"items":[{"`...)
			b = append(b, key...)
			b = append(b, `":"`...)
			b = append(b, pick(&g.r, ids(g.a))...)
			b = append(b, `"}]`...)
		}
		return append(b, `},"filterSet":{}},"responseElements":null`...)
	}
}

func describeFilters(set string) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"`...)
		b = append(b, set...)
		b = append(b, `":{},"filterSet":{}},"responseElements":null`...)
		return b
	}
}

func describeImages(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"executableBySet":{},"imagesSet":{"items":[{"imageId":"ami-`...)
	b = g.r.appendHex(b, 17)
	return append(b, `"}]},"ownersSet":{},"availabilityZone":"","filterSet":{}},"responseElements":null`...)
}

func createTags(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"resourcesSet":{"items":[{"resourceId":"`...)
	b = append(b, pick(&g.r, g.a.insts)...)
	b = append(b, `"}]},"tagSet":{"items":[{"key":"team","value":"`...)
	b = append(b, pick(&g.r, apps)...)
	b = append(b, `"}]}},"responseElements":{"requestId":"`...)
	b = g.r.appendUUID(b)
	return append(b, `","_return":true}`...)
}

func runInstances(g *gen, b []byte) []byte {
	inst := "i-" + string(g.r.appendHex(nil, 17))
	b = append(b, `"requestParameters":{"instancesSet":{"items":[{"imageId":"ami-`...)
	b = g.r.appendHex(b, 17)
	b = append(b, `","minCount":1,"maxCount":1}]},"instanceType":"`...)
	b = append(b, pick(&g.r, []string{"t3.micro", "t3.medium", "m6i.large", "c6g.xlarge", "r6i.2xlarge"})...)
	b = append(b, `","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"`...)
	b = g.r.appendUUID(b)
	b = append(b, `","subnetId":"`...)
	b = append(b, pick(&g.r, g.a.subnets)...)
	b = append(b, `"},"responseElements":{"requestId":"`...)
	b = g.r.appendUUID(b)
	b = append(b, `","reservationId":"r-`...)
	b = g.r.appendHex(b, 17)
	b = append(b, `","ownerId":"`...)
	b = append(b, g.a.id...)
	b = append(b, `","groupSet":{},"instancesSet":{"items":[{"instanceId":"`...)
	b = append(b, inst...)
	b = append(b, `","instanceState":{"code":0,"name":"pending"},"privateIpAddress":"`...)
	b = append(b, g.a.privateIP(&g.r)...)
	return append(b, `","amiLaunchIndex":0,"monitoring":{"state":"disabled"}}]}}`...)
}

func instanceStateChange(set, state string, prev int) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		inst := pick(&g.r, g.a.insts)
		b = append(b, `"requestParameters":{"instancesSet":{"items":[{"instanceId":"`...)
		b = append(b, inst...)
		b = append(b, `"}]}},"responseElements":{"requestId":"`...)
		b = g.r.appendUUID(b)
		b = append(b, `","instancesSet":{"items":[{"instanceId":"`...)
		b = append(b, inst...)
		b = append(b, `","currentState":{"code":0,"name":"`...)
		b = append(b, state...)
		b = append(b, `"},"previousState":{"code":16,"name":"running"}}]}}`...)
		return b
	}
}

func createENI(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"subnetId":"`...)
	b = append(b, pick(&g.r, g.a.subnets)...)
	b = append(b, `","description":"AWS Lambda VPC ENI-`...)
	b = append(b, pick(&g.r, g.a.funcs)...)
	b = append(b, `","groupSet":{"items":[{"groupId":"`...)
	b = append(b, pick(&g.r, g.a.sgs)...)
	b = append(b, `"}]},"privateIpAddressesSet":{}},"responseElements":{"requestId":"`...)
	b = g.r.appendUUID(b)
	b = append(b, `","networkInterface":{"networkInterfaceId":"eni-`...)
	b = g.r.appendHex(b, 17)
	b = append(b, `","subnetId":"`...)
	b = append(b, pick(&g.r, g.a.subnets)...)
	b = append(b, `","vpcId":"`...)
	b = append(b, pick(&g.r, g.a.vpcs)...)
	b = append(b, `","ownerId":"`...)
	b = append(b, g.a.id...)
	b = append(b, `","status":"pending","privateIpAddress":"`...)
	b = append(b, g.a.privateIP(&g.r)...)
	return append(b, `","interfaceType":"lambda","sourceDestCheck":true}}`...)
}

func deleteENI(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"networkInterfaceId":"eni-`...)
	b = g.r.appendHex(b, 17)
	b = append(b, `"},"responseElements":{"requestId":"`...)
	b = g.r.appendUUID(b)
	return append(b, `","_return":true}`...)
}

func createSnapshot(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"volumeId":"vol-`...)
	b = g.r.appendHex(b, 17)
	b = append(b, `","description":"nightly backup"},"responseElements":{"requestId":"`...)
	b = g.r.appendUUID(b)
	b = append(b, `","snapshotId":"snap-`...)
	b = g.r.appendHex(b, 17)
	b = append(b, `","status":"pending","ownerId":"`...)
	b = append(b, g.a.id...)
	return append(b, `","volumeSize":100,"encrypted":true}`...)
}

func s3Extra(g *gen, b []byte, in, out int) []byte {
	b = append(b, `,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":`...)
	b = appendInt(b, in)
	b = append(b, `,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`...)
	b = g.r.appendChars(b, base64Chars, 76)
	b = append(b, `","bytesTransferredOut":`...)
	b = appendInt(b, out)
	return append(b, '}')
}

func s3ListBuckets(g *gen, b []byte) []byte {
	g.host = "s3." + g.region + ".amazonaws.com"
	b = append(b, `"requestParameters":{"Host":"s3.`...)
	b = append(b, g.region...)
	b = append(b, `.amazonaws.com"},"responseElements":null`...)
	return s3Extra(g, b, 0, 2000+g.r.intn(6000))
}

func s3BucketOp(sub string, write bool) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		bucket := pick(&g.r, g.a.buckets)
		g.host = bucket + ".s3." + g.region + ".amazonaws.com"
		b = append(b, `"requestParameters":{"bucketName":"`...)
		b = append(b, bucket...)
		b = append(b, `","Host":"`...)
		b = append(b, g.host...)
		b = append(b, `","`...)
		b = append(b, sub...)
		if write && sub == "tagging" {
			b = append(b, `":"","Tagging":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","TagSet":{"Tag":[{"Key":"team","Value":"`...)
			b = append(b, pick(&g.r, apps)...)
			b = append(b, `"}]}}},"responseElements":null`...)
		} else {
			b = append(b, `":""},"responseElements":null`...)
		}
		g.resource("AWS::S3::Bucket", "arn:aws:s3:::", bucket)
		return s3Extra(g, b, 0, 200+g.r.intn(900))
	}
}

func s3Data(name string, w float64, head bool) *tmpl {
	t := api("s3.amazonaws.com", name, w, workload|ci|human|service, func(g *gen, b []byte) []byte {
		bucket := g.a.buckets[g.r.skewed(len(g.a.buckets))]
		g.host = bucket + ".s3." + g.region + ".amazonaws.com"
		b = append(b, `"requestParameters":{"bucketName":"`...)
		b = append(b, bucket...)
		b = append(b, `","Host":"`...)
		b = append(b, g.host...)
		if name == "ListObjects" {
			b = append(b, `","list-type":"2","prefix":"`...)
			b = append(b, pick(&g.r, apps)...)
			b = append(b, `/"},"responseElements":null`...)
		} else {
			b = append(b, `","key":"`...)
			key := len(b)
			b = append(b, pick(&g.r, apps)...)
			b = append(b, '/')
			b = appendInt(b, 2020+g.r.intn(5))
			b = append(b, '/')
			b = g.r.appendHex(b, 12)
			b = append(b, pick(&g.r, []string{".json", ".parquet", ".jpg", ".csv.gz", ".pdf"})...)
			keyEnd := len(b)
			if name == "PutObject" {
				b = append(b, `"},"responseElements":{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"`...)
				b = g.arnPrefix(b, "kms")
				b = append(b, ":key/"...)
				b = append(b, pick(&g.r, g.a.keys)...)
				b = append(b, `"}`...)
			} else {
				b = append(b, `"},"responseElements":null`...)
			}
			g.resource("AWS::S3::Object", "arn:aws:s3:::"+bucket+"/", string(b[key:keyEnd]))
		}
		g.resource("AWS::S3::Bucket", "arn:aws:s3:::", bucket)
		in, out := 0, 0
		switch name {
		case "GetObject":
			out = 200 + g.r.intn(2_000_000)
		case "PutObject":
			in = 200 + g.r.intn(2_000_000)
		case "ListObjects":
			out = 500 + g.r.intn(20000)
		}
		return s3Extra(g, b, in, out)
	})
	t.data = true
	t.reqID = reqS3
	t.readOnly = name != "PutObject" && name != "DeleteObject"
	t.ver = "1.08"
	return t
}

func iamUserParam(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"userName":"`...)
	b = append(b, pick(&g.r, g.a.iamUsers()).name...)
	return append(b, `"},"responseElements":null`...)
}

func iamRoleParam(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"roleName":"`...)
	b = append(b, pick(&g.r, g.a.roles)...)
	return append(b, `"},"responseElements":null`...)
}

func iamRolePolicyParam(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"roleName":"`...)
	b = append(b, pick(&g.r, g.a.roles)...)
	b = append(b, `","policyName":"`...)
	b = append(b, pick(&g.r, g.a.policies)...)
	return append(b, `"},"responseElements":null`...)
}

func iamPolicyParam(version bool) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		b = append(b, `"requestParameters":{"policyArn":"arn:aws:iam::`...)
		b = append(b, g.a.id...)
		b = append(b, `:policy/`...)
		b = append(b, pick(&g.r, g.a.policies)...)
		if version {
			b = append(b, `","versionId":"v`...)
			b = appendInt(b, 1+g.r.intn(5))
		}
		return append(b, `"},"responseElements":null`...)
	}
}

func iamTagRole(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"roleName":"`...)
	b = append(b, pick(&g.r, g.a.roles)...)
	b = append(b, `","tags":[{"key":"owner","value":"`...)
	b = append(b, pick(&g.r, apps)...)
	return append(b, `"}]},"responseElements":null`...)
}

func kmsKeyARN(g *gen, b []byte, key string) []byte {
	b = g.arnPrefix(b, "kms")
	b = append(b, ":key/"...)
	return append(b, key...)
}

func kmsResource(g *gen, key string) {
	if len(g.res) > 0 {
		g.res = append(g.res, ',')
	}
	g.res = append(g.res, `{"accountId":"`...)
	g.res = append(g.res, g.a.id...)
	g.res = append(g.res, `","type":"AWS::KMS::Key","ARN":"`...)
	g.res = kmsKeyARN(g, g.res, key)
	g.res = append(g.res, `"}`...)
}

func kmsCrypto(op string) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		key := g.a.keys[g.r.skewed(len(g.a.keys))]
		b = append(b, `"requestParameters":{`...)
		if op != "Decrypt" {
			b = append(b, `"keyId":"`...)
			b = kmsKeyARN(g, b, key)
			b = append(b, `",`...)
		}
		b = append(b, `"encryptionContext":{"aws:lambda:FunctionArn":"`...)
		b = g.arnPrefix(b, "lambda")
		b = append(b, ":function:"...)
		b = append(b, pick(&g.r, g.a.funcs)...)
		b = append(b, `"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"`...)
		if op == "GenerateDataKey" {
			b = append(b, `,"keySpec":"AES_256"`...)
		}
		b = append(b, `},"responseElements":null`...)
		kmsResource(g, key)
		return b
	}
}

func kmsKeyParam(g *gen, b []byte) []byte {
	key := pick(&g.r, g.a.keys)
	b = append(b, `"requestParameters":{"keyId":"`...)
	b = append(b, key...)
	b = append(b, `"},"responseElements":null`...)
	kmsResource(g, key)
	return b
}

func kmsKeyPolicy(g *gen, b []byte) []byte {
	key := pick(&g.r, g.a.keys)
	b = append(b, `"requestParameters":{"keyId":"`...)
	b = append(b, key...)
	b = append(b, `","policyName":"default"},"responseElements":null`...)
	kmsResource(g, key)
	return b
}

// RotateKey is a service event: KMS rotating key material on its own.
var kmsRotateKey = func() *tmpl {
	t := api("kms.amazonaws.com", "RotateKey", 0.2, service, func(g *gen, b []byte) []byte {
		key := pick(&g.r, g.a.keys)
		b = append(b, `"requestParameters":null,"responseElements":null,"serviceEventDetails":{"keyId":"`...)
		b = append(b, key...)
		b = append(b, `"}`...)
		kmsResource(g, key)
		return b
	})
	t.eventType = "AwsServiceEvent"
	t.noTLS = true
	t.reqID = reqNone
	return t
}()

func lambdaFnParam(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"functionName":"`...)
	b = append(b, pick(&g.r, g.a.funcs)...)
	return append(b, `"},"responseElements":null`...)
}

var lambdaInvoke = func() *tmpl {
	t := api("lambda.amazonaws.com", "Invoke", 10, workload|service|ci, func(g *gen, b []byte) []byte {
		fn := pick(&g.r, g.a.funcs)
		b = append(b, `"requestParameters":{"functionName":"`...)
		b = g.arnPrefix(b, "lambda")
		b = append(b, ":function:"...)
		b = append(b, fn...)
		b = append(b, `","invocationType":"`...)
		b = append(b, pick(&g.r, []string{"RequestResponse", "Event"})...)
		b = append(b, `"},"responseElements":null,"additionalEventData":{"functionVersion":"`...)
		b = g.arnPrefix(b, "lambda")
		b = append(b, ":function:"...)
		b = append(b, fn...)
		b = append(b, `:$LATEST"}`...)
		g.resource("AWS::Lambda::Function", string(g.arnPrefix(nil, "lambda"))+":function:", fn)
		return b
	})
	t.data = true
	t.readOnly = false
	t.ver = "1.08"
	return t
}()

func lambdaUpdateCode(g *gen, b []byte) []byte {
	fn := pick(&g.r, g.a.funcs)
	b = append(b, `"requestParameters":{"functionName":"`...)
	b = append(b, fn...)
	b = append(b, `","s3Bucket":"`...)
	b = append(b, pick(&g.r, g.a.buckets)...)
	b = append(b, `","s3Key":"builds/`...)
	b = g.r.appendHex(b, 40)
	b = append(b, `.zip","publish":false,"dryRun":false},"responseElements":{"functionName":"`...)
	b = append(b, fn...)
	b = append(b, `","functionArn":"`...)
	b = g.arnPrefix(b, "lambda")
	b = append(b, ":function:"...)
	b = append(b, fn...)
	b = append(b, `","runtime":"python3.11","handler":"app.handler","codeSize":`...)
	b = appendInt(b, 10000+g.r.intn(5_000_000))
	b = append(b, `,"timeout":30,"memorySize":512,"version":"$LATEST","state":"Active","lastUpdateStatus":"InProgress"}`...)
	return b
}

func getMetricData(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"metricDataQueries":[{"id":"m1","metricStat":{"metric":{"namespace":"AWS/`...)
	b = append(b, pick(&g.r, []string{"EC2", "Lambda", "DynamoDB", "SQS", "ApplicationELB", "RDS"})...)
	b = append(b, `","metricName":"`...)
	b = append(b, pick(&g.r, []string{"CPUUtilization", "Invocations", "Errors", "Duration", "ConsumedReadCapacityUnits", "ApproximateNumberOfMessagesVisible", "TargetResponseTime"})...)
	b = append(b, `"},"period":300,"stat":"Average"},"returnData":true}],"startTime":"`...)
	b = appendTime(b, g.t-3*3600)
	b = append(b, `","endTime":"`...)
	b = appendTime(b, g.t)
	return append(b, `"},"responseElements":null`...)
}

func getMetricStatistics(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"namespace":"AWS/EC2","metricName":"CPUUtilization","dimensions":[{"name":"InstanceId","value":"`...)
	b = append(b, pick(&g.r, g.a.insts)...)
	b = append(b, `"}],"startTime":"`...)
	b = appendTime(b, g.t-3600)
	b = append(b, `","endTime":"`...)
	b = appendTime(b, g.t)
	return append(b, `","period":60,"statistics":["Average","Maximum"]},"responseElements":null`...)
}

func putMetricAlarm(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"alarmName":"`...)
	b = append(b, pick(&g.r, g.a.funcs)...)
	b = append(b, `-errors","metricName":"Errors","namespace":"AWS/Lambda","statistic":"Sum","period":300,"evaluationPeriods":1,"threshold":1.0,"comparisonOperator":"GreaterThanOrEqualToThreshold","alarmActions":["arn:aws:sns:`...)
	b = append(b, g.region...)
	b = append(b, ':')
	b = append(b, g.a.id...)
	b = append(b, ':')
	b = append(b, pick(&g.r, g.a.topics)...)
	return append(b, `"]},"responseElements":null`...)
}

func createLogStream(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"logGroupName":"/aws/lambda/`...)
	b = append(b, pick(&g.r, g.a.funcs)...)
	b = append(b, `","logStreamName":"`...)
	day := len(b)
	b = appendTime(b, g.t)[:day+10]
	b[day+4], b[day+7] = '/', '/'
	b = append(b, `/[$LATEST]`...)
	b = g.r.appendHex(b, 32)
	return append(b, `"},"responseElements":null`...)
}

func logGroupParam(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"logGroupName":"/aws/lambda/`...)
	b = append(b, pick(&g.r, g.a.funcs)...)
	return append(b, `"},"responseElements":null`...)
}

func ddbTableParam(g *gen, b []byte) []byte {
	table := pick(&g.r, g.a.tables)
	b = append(b, `"requestParameters":{"tableName":"`...)
	b = append(b, table...)
	b = append(b, `"},"responseElements":null`...)
	return b
}

func ddbData(name string, w float64) *tmpl {
	t := api("dynamodb.amazonaws.com", name, w, workload, func(g *gen, b []byte) []byte {
		table := g.a.tables[g.r.skewed(len(g.a.tables))]
		b = append(b, `"requestParameters":{"tableName":"`...)
		b = append(b, table...)
		switch name {
		case "Query":
			b = append(b, `","keyConditionExpression":"pk = :pk","limit":100`...)
		default:
			b = append(b, `","key":{"pk":"HIDDEN_DUE_TO_SECURITY_REASONS","sk":"HIDDEN_DUE_TO_SECURITY_REASONS"}`...)
		}
		b = append(b, `},"responseElements":null`...)
		g.resource("AWS::DynamoDB::Table", string(g.arnPrefix(nil, "dynamodb"))+":table/", table)
		return b
	})
	t.data = true
	t.readOnly = name == "GetItem" || name == "Query"
	t.ver = "1.08"
	return t
}

func ssmParam(key string, path bool) func(*gen, []byte) []byte {
	return func(g *gen, b []byte) []byte {
		p := pick(&g.r, g.a.params)
		b = append(b, `"requestParameters":{"`...)
		b = append(b, key...)
		switch {
		case path:
			b = append(b, `":"`...)
			b = append(b, p[:strings.LastIndexByte(p, '/')]...)
			b = append(b, `","recursive":true,"withDecryption":true}`...)
		case key == "names":
			b = append(b, `":["`...)
			b = append(b, p...)
			b = append(b, `","`...)
			b = append(b, pick(&g.r, g.a.params)...)
			b = append(b, `"],"withDecryption":true}`...)
		default:
			b = append(b, `":"`...)
			b = append(b, p...)
			b = append(b, `","withDecryption":true}`...)
		}
		return append(b, `,"responseElements":null`...)
	}
}

func ssmUpdateInstanceInfo(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"instanceId":"`...)
	b = append(b, pick(&g.r, g.a.insts)...)
	b = append(b, `","agentVersion":"3.2.1705.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"`...)
	b = append(b, g.a.privateIP(&g.r)...)
	b = append(b, `","computerName":"ip-10-0-`...)
	b = appendInt(b, g.r.intn(256))
	b = append(b, '-')
	b = appendInt(b, g.r.intn(256))
	b = append(b, `.ec2.internal","agentName":"amazon-ssm-agent","availabilityZone":"`...)
	b = append(b, g.region...)
	b = append(b, 'a', '"')
	return append(b, `},"responseElements":null`...)
}

func secretParam(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"secretId":"`...)
	b = g.arnPrefix(b, "secretsmanager")
	b = append(b, ":secret:"...)
	b = append(b, pick(&g.r, g.a.secrets)...)
	return append(b, `"},"responseElements":null`...)
}

func sqsQueue(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"queueUrl":"https://sqs.`...)
	b = append(b, g.region...)
	b = append(b, `.amazonaws.com/`...)
	b = append(b, g.a.id...)
	b = append(b, '/')
	b = append(b, pick(&g.r, g.a.queues)...)
	return append(b, `","attributeNames":["All"]},"responseElements":null`...)
}

func snsTopic(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"topicArn":"`...)
	b = g.arnPrefix(b, "sns")
	b = append(b, ':')
	b = append(b, pick(&g.r, g.a.topics)...)
	return append(b, `"},"responseElements":null`...)
}

func ecrAuth(g *gen, b []byte) []byte {
	return append(b, `"requestParameters":{"registryIds":[]},"responseElements":null`...)
}

func ecrImage(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"imageIds":[{"imageTag":"`...)
	b = g.r.appendHex(b, 7)
	b = append(b, `"}],"acceptedMediaTypes":["application/vnd.docker.distribution.manifest.v2+json"],"repositoryName":"`...)
	b = append(b, pick(&g.r, apps)...)
	b = append(b, `","registryId":"`...)
	b = append(b, g.a.id...)
	return append(b, `"},"responseElements":null`...)
}

func ecrLayer(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"repositoryName":"`...)
	b = append(b, pick(&g.r, apps)...)
	b = append(b, `","layerDigest":"sha256:`...)
	b = g.r.appendHex(b, 64)
	b = append(b, `","registryId":"`...)
	b = append(b, g.a.id...)
	return append(b, `"},"responseElements":null`...)
}

func ecsCluster(g *gen, b []byte) []byte {
	c := pick(&g.r, g.a.clusters)
	b = append(b, `"requestParameters":{"cluster":"`...)
	b = append(b, c...)
	b = append(b, `","services":["`...)
	b = append(b, c...)
	return append(b, `-svc"]},"responseElements":null`...)
}

func elbTargetHealth(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"targetGroupArn":"`...)
	b = g.arnPrefix(b, "elasticloadbalancing")
	b = append(b, ":targetgroup/"...)
	b = append(b, pick(&g.r, apps)...)
	b = append(b, '/')
	b = g.r.appendHex(b, 16)
	return append(b, `"},"responseElements":null`...)
}

func cfnStack(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"stackName":"`...)
	b = append(b, pick(&g.r, g.a.stacks)...)
	return append(b, `"},"responseElements":null`...)
}

func configEvaluations(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"evaluations":[{"complianceResourceType":"AWS::EC2::Instance","complianceResourceId":"`...)
	b = append(b, pick(&g.r, g.a.insts)...)
	b = append(b, `","complianceType":"`...)
	b = append(b, pick(&g.r, []string{"COMPLIANT", "COMPLIANT", "NON_COMPLIANT"})...)
	b = append(b, `","orderingTimestamp":"`...)
	b = appendExpiration(b, g.t-60)
	b = append(b, `"}],"resultToken":"`...)
	b = g.r.appendChars(b, base64Chars, 120)
	b = append(b, `","testMode":false},"responseElements":{"failedEvaluations":[]}`...)
	return b
}

func trailListParam(g *gen, b []byte) []byte {
	return append(b, `"requestParameters":{"includeShadowTrails":true},"responseElements":null`...)
}

func trailNameParam(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"name":"arn:aws:cloudtrail:`...)
	b = append(b, g.region...)
	b = append(b, ':')
	b = append(b, g.a.id...)
	return append(b, `:trail/management-events"},"responseElements":null`...)
}

func lookupEvents(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"startTime":"`...)
	b = appendExpiration(b, g.t-86400)
	b = append(b, `","endTime":"`...)
	b = appendExpiration(b, g.t)
	return append(b, `","maxResults":50},"responseElements":null`...)
}

func route53Change(g *gen, b []byte) []byte {
	b = append(b, `"requestParameters":{"id":"C`...)
	b = g.r.appendChars(b, upperAlnum, 20)
	return append(b, `"},"responseElements":null`...)
}

func healthAggregates(g *gen, b []byte) []byte {
	return append(b, `"requestParameters":{"aggregateField":"eventTypeCategory","filter":{"eventStatusCodes":["open","upcoming"]}},"responseElements":null`...)
}

// Console sign-ins with MFA: routine, matched by no CIS filter. Picked like a
// background template; record() gets the login identity from the caller.
var consoleLoginMFA = func() *tmpl {
	t := consoleLoginTmpl()
	t.weight = 0.4
	return t
}()

func consoleLoginTmpl() *tmpl {
	t := api("signin.amazonaws.com", "ConsoleLogin", 0, human, consoleLoginBody)
	t.eventType = "AwsConsoleSignIn"
	t.reqID = reqNone
	t.host = "signin.aws.amazon.com"
	t.ver = "1.08"
	return t
}

func consoleLoginBody(g *gen, b []byte) []byte {
	if g.c.loginOK {
		b = append(b, `"requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_`...)
	} else {
		b = append(b, `"requestParameters":null,"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_`...)
	}
	b = append(b, g.region...)
	b = append(b, '_')
	b = g.r.appendHex(b, 16)
	b = append(b, `","MobileVersion":"No"`...)
	if g.c.mfa == "Yes" && g.c.p.mfaDevice != "" {
		b = append(b, `,"MFAIdentifier":"`...)
		b = append(b, g.c.p.mfaDevice...)
		b = append(b, '"')
	}
	if g.c.mfa != "" {
		b = append(b, `,"MFAUsed":"`...)
		b = append(b, g.c.mfa...)
		b = append(b, '"')
	}
	return append(b, '}')
}
