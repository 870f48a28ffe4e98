package generate

// Kinds of principal; a template says which kinds may call it.
type who uint8

const (
	human    who = 1 << iota // IAM users (CLI and console), SSO users, federated users
	workload                 // Lambda, EC2 and ECS roles
	ci                       // Terraform and CI/CD roles
	svcRole                  // service-linked roles acting through a service (invokedBy)
	service                  // the AWSService identity itself
)

// principal is one identity of an account with its userIdentity pre-rendered.
// Session identities need the access key and creationDate of the session in
// progress; they are written as pre + key + mid + creationDate + post.
type principal struct {
	kind    who
	name    string // user or role name
	arn     string // the identity's ARN, as error messages quote it
	pre     []byte // whole identity when !session
	mid     []byte
	post    []byte
	session bool
	seed    uint64

	ips     []string // sourceIPAddress values
	uas     []string // userAgent values
	console bool     // acts through the console: console user agents, sessionCredentialFromConsole
	vpce    string   // vpcEndpointId for calls through an endpoint, "" if none

	login, loginFailed []byte // ConsoleLogin identities (IAM users only)
	mfaDevice          string // "arn:aws:iam::…:mfa/…" for users with MFA
}

func (p *principal) appendIdentity(b []byte, t int64) []byte {
	b = append(b, p.pre...)
	if !p.session {
		return b
	}
	// Sessions last an hour and start at a per-principal offset, so that the
	// access key and creationDate are stable within a session and not all
	// principals roll over together.
	off := int64(p.seed % 3600)
	sess := (t + off) / 3600
	b = appendHash(b, base32Upper, 8, p.seed, uint64(sess))
	b = append(b, p.mid...)
	b = appendTime(b, sess*3600-off)
	return append(b, p.post...)
}

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
		"olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin", "zoe", "amir", "bea", "chen", "dmitri",
		"elena", "fatima", "gustavo", "hana", "ines", "jonas", "kenji", "lars", "maria", "noah", "omar", "priya", "quinn",
		"rosa", "sven", "tariq", "uma", "vera", "wei", "xavier", "yuki", "zane", "anika", "bruno", "camila"}
	lastNames = []string{"smith", "jones", "garcia", "mueller", "rossi", "kim", "nguyen", "silva", "dubois", "novak",
		"kowalski", "tanaka", "ali", "patel", "berg", "moreau", "costa", "ivanova", "larsen", "okafor"}
	apps = []string{"orders", "payments", "checkout", "inventory", "search", "auth", "billing", "notifications", "reporting",
		"ingest", "etl", "thumbnails", "catalog", "shipping", "recommendations", "analytics", "audit", "webhooks", "profile",
		"pricing", "cart", "fraud", "exports", "scheduler", "mailer", "gateway", "ledger", "sessions", "media", "indexer"}
	permissionSets = []string{"AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "DeveloperAccess", "SecurityAudit", "DataEngineer"}
	publicOctets   = []int{24, 31, 37, 46, 62, 68, 71, 73, 76, 81, 82, 86, 89, 90, 92, 98, 99, 104, 108, 109, 151, 176, 178, 185, 188, 193, 195, 203, 212, 217}
	awsOctets      = []int{3, 18, 34, 35, 44, 52, 54}

	cliUAs = []string{
		"aws-cli/2.15.10 Python/3.11.6 Darwin/23.2.0 exe/x86_64 prompt/off",
		"aws-cli/2.15.8 Python/3.11.6 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off",
		"aws-cli/2.13.25 Python/3.11.5 Windows/10 exe/AMD64 prompt/off",
		"aws-cli/1.29.85 Python/3.9.16 Linux/5.10.199-190.747.amzn2.x86_64 botocore/1.31.85",
		"Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/macos#23.2.0 md/arch#arm64 lang/python#3.12.1 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11",
	}
	consoleUAs = []string{
		"AWS Internal",
		"console.amazonaws.com",
		"console.ec2.amazonaws.com",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
	}
	browserUAs = []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
	}
	lambdaUAs = []string{
		"Boto3/1.34.14 md/Botocore#1.34.14 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython exec-env/AWS_Lambda_python3.11 cfg/retry-mode#legacy Botocore/1.34.14",
		"aws-sdk-js/3.478.0 ua/2.0 os/linux#5.10.205-215.789.amzn2.x86_64 lang/js md/nodejs#20.10.0 exec-env/AWS_Lambda_nodejs20.x",
		"aws-sdk-nodejs/2.1510.0 linux/v18.18.2 exec-env/AWS_Lambda_nodejs18.x promise",
		"aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 exec-env/AWS_Lambda_provided.al2",
	}
	ec2UAs = []string{
		"aws-sdk-java/2.21.29 Linux/5.10.201-191.748.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
		"aws-sdk-go/1.44.260 (go1.20.7; linux; amd64) amazon-ssm-agent/3.2.1705.0",
		"Boto3/1.33.13 md/Botocore#1.33.13 ua/2.0 os/linux#6.1.66-91.160.amzn2023.x86_64 md/arch#x86_64 lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.33.13",
		"aws-cli/2.15.4 Python/3.11.6 Linux/6.1.66-91.160.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off",
	}
	ecsUAs = []string{
		"aws-sdk-java/2.21.29 Linux/5.10.201-191.748.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
		"aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 exec-env/AWS_ECS_FARGATE",
	}
	ciUAs = []string{
		"APN/1.0 HashiCorp/1.0 Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.49.6 (go1.21.5; linux; amd64)",
		"APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.26.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.48.4 (go1.20.11; linux; amd64)",
		"aws-cli/2.15.6 Python/3.11.6 Linux/6.2.0-1018-azure exe/x86_64.ubuntu.22 prompt/off command/cloudformation.deploy",
	}
)

// servicePrincipals are the AWSService identities, mostly assuming roles for
// the services they run.
var servicePrincipals = []string{"lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "config.amazonaws.com",
	"cloudformation.amazonaws.com", "events.amazonaws.com", "states.amazonaws.com", "codebuild.amazonaws.com"}

// serviceRoles are service-linked roles with the service that acts through them.
var serviceRoles = [][2]string{
	{"AWSServiceRoleForConfig", "config.amazonaws.com"},
	{"AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com"},
	{"AWSServiceRoleForAmazonGuardDuty", "guardduty.amazonaws.com"},
	{"AWSServiceRoleForSecurityHub", "securityhub.amazonaws.com"},
	{"AWSServiceRoleForAmazonInspector2", "inspector2.amazonaws.com"},
	{"AWSServiceRoleForECS", "ecs.amazonaws.com"},
	{"AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com"},
	{"AWSServiceRoleForTrustedAdvisor", "trustedadvisor.amazonaws.com"},
	{"AWSServiceRoleForAccessAnalyzer", "access-analyzer.amazonaws.com"},
}

// account is one synthetic AWS account: its principals and resources, built
// once from the seed and the account ID.
type account struct {
	id       string
	key      string // the 8 characters of access key and principal IDs that identify the account
	orgID    string
	byKind   map[who][]*principal
	byMask   [32][]*principal
	users    []*principal // IAM users that sign in to the console
	root     *principal
	rootSvc  []*principal // root acting through an AWS service (invokedBy)
	buckets  []string
	funcs    []string
	tables   []string
	keys     []string // KMS key IDs
	secrets  []string
	params   []string
	roles    []string // role names, as request parameters name them
	policies []string // customer managed policy names
	vpcs     []string
	subnets  []string
	sgs      []string
	insts    []string
	rtbs     []string
	nacls    []string
	igws     []string
	clusters []string
	stacks   []string
	queues   []string
	topics   []string
	ous      []string
	peerAcct string
}

func newAccount(seed uint64, id string) *account {
	r := newRNG(seed, hashString(id), 1)
	a := &account{id: id, byKind: map[who][]*principal{}}
	a.key = string(r.appendChars(nil, base32Upper, 8))
	a.orgID = "o-" + string(r.appendChars(nil, "abcdefghijklmnopqrstuvwxyz0123456789", 10))
	a.peerAcct = string(r.appendChars(nil, "0123456789", 12))
	if a.peerAcct[0] == '0' {
		a.peerAcct = "5" + a.peerAcct[1:]
	}

	hexID := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = prefix + string(r.appendHex(nil, 17))
		}
		return out
	}
	env := []string{"prod", "staging", "dev"}
	for i := 0; i < 24; i++ {
		a.buckets = append(a.buckets, pick(&r, apps)+"-"+pick(&r, env)+"-"+pick(&r, []string{"data", "assets", "logs", "uploads", "backups", "artifacts", "exports"})+"-"+string(r.appendHex(nil, 6)))
	}
	for i := 0; i < 30; i++ {
		a.funcs = append(a.funcs, pick(&r, apps)+"-"+pick(&r, []string{"handler", "worker", "api", "consumer", "cron", "resize", "sync", "notifier"})+"-"+pick(&r, env))
	}
	for i := 0; i < 16; i++ {
		a.tables = append(a.tables, pick(&r, apps)+"-"+pick(&r, []string{"items", "events", "state", "locks", "sessions", "idempotency"})+"-"+pick(&r, env))
	}
	for i := 0; i < 12; i++ {
		a.keys = append(a.keys, string(r.appendUUID(nil)))
	}
	for i := 0; i < 14; i++ {
		app := pick(&r, apps)
		a.secrets = append(a.secrets, pick(&r, env)+"/"+app+"/"+pick(&r, []string{"db-password", "api-key", "stripe-token", "oauth-client"})+"-"+string(r.appendChars(nil, alnum, 6)))
		a.params = append(a.params, "/"+pick(&r, env)+"/"+app+"/"+pick(&r, []string{"db_host", "feature_flags", "log_level", "endpoint", "queue_url", "max_workers"}))
	}
	for i := 0; i < 12; i++ {
		a.policies = append(a.policies, pick(&r, apps)+"-"+pick(&r, []string{"read", "write", "deploy", "s3-access", "kms-use"})+"-policy")
	}
	a.vpcs = hexID("vpc-", 4)
	a.subnets = hexID("subnet-", 12)
	a.sgs = hexID("sg-", 20)
	a.insts = hexID("i-", 40)
	a.rtbs = hexID("rtb-", 8)
	a.nacls = hexID("acl-", 5)
	a.igws = hexID("igw-", 3)
	for i := 0; i < 5; i++ {
		a.clusters = append(a.clusters, pick(&r, apps)+"-"+pick(&r, env))
		a.stacks = append(a.stacks, pick(&r, apps)+"-"+pick(&r, env)+"-stack")
		a.topics = append(a.topics, pick(&r, apps)+"-"+pick(&r, []string{"alerts", "events", "notifications"}))
	}
	for i := 0; i < 8; i++ {
		a.queues = append(a.queues, pick(&r, apps)+"-"+pick(&r, []string{"jobs", "events", "dlq", "tasks"}))
	}
	for i := 0; i < 4; i++ {
		a.ous = append(a.ous, "ou-"+string(r.appendChars(nil, "abcdefghijklmnopqrstuvwxyz0123456789", 4))+"-"+string(r.appendChars(nil, "abcdefghijklmnopqrstuvwxyz0123456789", 8)))
	}

	add := func(p *principal) {
		p.seed = r.next()
		a.byKind[p.kind] = append(a.byKind[p.kind], p)
	}
	used := map[string]bool{}
	uniqueName := func() string {
		for {
			n := pick(&r, firstNames) + "." + pick(&r, lastNames)
			if !used[n] {
				used[n] = true
				return n
			}
		}
	}

	// IAM users: some with long-term access keys (CLI, scripts), some who
	// sign in to the console with MFA.
	for i := 0; i < 15; i++ {
		name := uniqueName()
		if i%3 == 0 {
			name = pick(&r, apps) + "-" + pick(&r, []string{"deployer", "backup", "sync", "legacy", "monitoring"}) + "-" + string(r.appendChars(nil, "0123456789", 2))
		}
		aid := a.principalID(&r, "AIDA")
		p := &principal{kind: human, name: name, arn: "arn:aws:iam::" + id + ":user/" + name}
		p.pre = []byte(`{"type":"IAMUser","principalId":"` + aid + `","arn":"` + p.arn + `","accountId":"` + id + `","accessKeyId":"AKIA` + a.key + string(r.appendChars(nil, base32Upper, 8)) + `","userName":"` + name + `"}`)
		p.ips = a.publicIPs(&r, 2)
		p.uas = []string{pick(&r, cliUAs), pick(&r, cliUAs)}
		add(p)
	}
	for i := 0; i < 20; i++ {
		name := uniqueName()
		aid := a.principalID(&r, "AIDA")
		p := &principal{kind: human, name: name, arn: "arn:aws:iam::" + id + ":user/" + name, session: true, console: true}
		p.pre = []byte(`{"type":"IAMUser","principalId":"` + aid + `","arn":"` + p.arn + `","accountId":"` + id + `","accessKeyId":"ASIA` + a.key)
		p.mid = []byte(`","userName":"` + name + `","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"`)
		p.post = []byte(`","mfaAuthenticated":"true"}}}`)
		p.login = []byte(`{"type":"IAMUser","principalId":"` + aid + `","arn":"` + p.arn + `","accountId":"` + id + `","userName":"` + name + `"}`)
		p.loginFailed = []byte(`{"type":"IAMUser","principalId":"` + aid + `","accountId":"` + id + `","accessKeyId":"","userName":"` + name + `"}`)
		p.mfaDevice = "arn:aws:iam::" + id + ":mfa/" + name
		p.ips = a.publicIPs(&r, 2)
		p.uas = consoleUAs
		add(p)
		a.users = append(a.users, p)
	}
	// SSO users reach the account through IAM Identity Center permission sets.
	ssoRoles := map[string]string{}
	for _, ps := range permissionSets {
		ssoRoles[ps] = "AWSReservedSSO_" + ps + "_" + string(r.appendHex(nil, 16))
	}
	for i := 0; i < 60; i++ {
		user := uniqueName() + "@example.com"
		role := ssoRoles[permissionSets[r.skewed(len(permissionSets))]]
		p := a.assumedRole(&r, role, "aws-reserved/sso.amazonaws.com/", user, "")
		p.kind = human
		p.console = r.chance(0.5)
		p.ips = a.publicIPs(&r, 2)
		if p.console {
			p.uas = consoleUAs
		} else {
			p.uas = []string{pick(&r, cliUAs)}
		}
		add(p)
	}
	for i := 0; i < 4; i++ {
		name := pick(&r, firstNames) + "-" + pick(&r, []string{"portal", "broker", "tool"})
		p := &principal{kind: human, name: name, arn: "arn:aws:sts::" + id + ":federated-user/" + name, session: true}
		broker := "federation-broker"
		p.pre = []byte(`{"type":"FederatedUser","principalId":"` + id + `:` + name + `","arn":"` + p.arn + `","accountId":"` + id + `","accessKeyId":"ASIA` + a.key)
		p.mid = []byte(`","sessionContext":{"sessionIssuer":{"type":"IAMUser","principalId":"` + a.principalID(&r, "AIDA") + `","arn":"arn:aws:iam::` + id + `:user/` + broker + `","accountId":"` + id + `","userName":"` + broker + `"},"webIdFederationData":{},"attributes":{"creationDate":"`)
		p.post = []byte(`","mfaAuthenticated":"false"}}}`)
		p.ips = a.publicIPs(&r, 1)
		p.uas = []string{pick(&r, cliUAs)}
		add(p)
	}

	// Workloads: Lambda functions (session = function name), EC2 instances
	// (session = instance ID), ECS tasks (session = task ID).
	for i, fn := range a.funcs {
		role := fn + "-role-" + string(r.appendChars(nil, "abcdefghijklmnopqrstuvwxyz0123456789", 8))
		a.roles = append(a.roles, role)
		p := a.assumedRole(&r, role, "service-role/", fn, "")
		p.kind = workload
		if i%3 == 0 { // in a VPC, through endpoints
			p.ips = []string{a.privateIP(&r)}
			p.vpce = "vpce-" + string(r.appendHex(nil, 17))
		} else {
			p.ips = a.awsIPs(&r, 3)
		}
		p.uas = []string{pick(&r, lambdaUAs)}
		add(p)
	}
	ec2Roles := []string{}
	for i := 0; i < 6; i++ {
		role := pick(&r, apps) + "-ec2-instance-role"
		ec2Roles = append(ec2Roles, role)
		a.roles = append(a.roles, role)
	}
	for _, inst := range a.insts[:24] {
		p := a.assumedRole(&r, pick(&r, ec2Roles), "", inst, "")
		p.kind = workload
		p.ips = []string{a.privateIP(&r)}
		if r.chance(0.3) {
			p.vpce = "vpce-" + string(r.appendHex(nil, 17))
		}
		p.uas = ec2UAs
		add(p)
	}
	for i := 0; i < 10; i++ {
		role := "ecsTaskRole-" + pick(&r, apps)
		a.roles = append(a.roles, role)
		p := a.assumedRole(&r, role, "", string(r.appendHex(nil, 32)), "")
		p.kind = workload
		p.ips = []string{a.privateIP(&r)}
		p.uas = []string{pick(&r, ecsUAs)}
		add(p)
	}
	for _, c := range [][2]string{{"terraform-deploy", "terraform"}, {"github-actions-deploy", "GitHubActions"}, {"jenkins-ci", "jenkins-" + string(r.appendChars(nil, "0123456789", 4))}, {"codebuild-service-role", "AWSCodeBuild-" + string(r.appendUUID(nil))}} {
		a.roles = append(a.roles, c[0])
		p := a.assumedRole(&r, c[0], "", c[1], "")
		p.kind = ci
		p.ips = a.awsIPs(&r, 2)
		p.uas = ciUAs
		add(p)
	}
	for _, sr := range serviceRoles {
		p := a.assumedRole(&r, sr[0], "aws-service-role/"+sr[1]+"/", string(r.appendChars(nil, alnum, 16)), sr[1])
		p.kind = svcRole
		p.ips = []string{sr[1]}
		p.uas = []string{sr[1]}
		add(p)
	}
	for _, s := range servicePrincipals {
		p := &principal{kind: service, name: s, arn: s}
		p.pre = []byte(`{"type":"AWSService","invokedBy":"` + s + `"}`)
		p.ips = []string{s}
		p.uas = []string{s}
		add(p)
	}

	rootPre := `{"type":"Root","principalId":"` + id + `","arn":"arn:aws:iam::` + id + `:root","accountId":"` + id + `","accessKeyId":"ASIA` + a.key
	rootMid := `","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"`
	a.root = &principal{name: "root", arn: "arn:aws:iam::" + id + ":root", session: true, console: true, seed: r.next(),
		pre: []byte(rootPre), mid: []byte(rootMid), post: []byte(`","mfaAuthenticated":"true"}}}`),
		ips: a.publicIPs(&r, 1), uas: browserUAs, mfaDevice: "arn:aws:iam::" + id + ":mfa/root-account-mfa-device"}
	a.root.login = []byte(`{"type":"Root","principalId":"` + id + `","arn":"arn:aws:iam::` + id + `:root","accountId":"` + id + `","accessKeyId":""}`)
	for _, svc := range []string{"support.amazonaws.com", "signin.amazonaws.com", "AWS Internal"} {
		p := *a.root
		p.post = []byte(`","mfaAuthenticated":"true"}},"invokedBy":"` + svc + `"}`)
		p.ips = []string{svc}
		p.uas = []string{svc}
		if svc == "signin.amazonaws.com" {
			p.ips = a.root.ips
		}
		a.rootSvc = append(a.rootSvc, &p)
	}

	for m := 1; m < 32; m++ {
		for _, k := range []who{human, workload, ci, svcRole, service} {
			if who(m)&k != 0 {
				a.byMask[m] = append(a.byMask[m], a.byKind[k]...)
			}
		}
	}
	return a
}

func (a *account) principalID(r *rng, prefix string) string {
	return prefix + a.key + string(r.appendChars(nil, base32Upper, 9))
}

// assumedRole builds an AssumedRole identity; invokedBy is "" unless a
// service acts through the role.
func (a *account) assumedRole(r *rng, role, path, session, invokedBy string) *principal {
	rid := a.principalID(r, "AROA")
	p := &principal{name: role, session: true, arn: "arn:aws:sts::" + a.id + ":assumed-role/" + role + "/" + session}
	p.pre = []byte(`{"type":"AssumedRole","principalId":"` + rid + `:` + session + `","arn":"` + p.arn + `","accountId":"` + a.id + `","accessKeyId":"ASIA` + a.key)
	p.mid = []byte(`","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"` + rid + `","arn":"arn:aws:iam::` + a.id + `:role/` + path + role + `","accountId":"` + a.id + `","userName":"` + role + `"},"webIdFederationData":{},"attributes":{"creationDate":"`)
	post := `","mfaAuthenticated":"false"}}`
	if invokedBy != "" {
		post += `,"invokedBy":"` + invokedBy + `"`
	}
	p.post = []byte(post + "}")
	return p
}

func (a *account) publicIPs(r *rng, n int) []string {
	return ips(r, publicOctets, 1+r.intn(n))
}

func (a *account) awsIPs(r *rng, n int) []string { return ips(r, awsOctets, 1+r.intn(n)) }

func ips(r *rng, first []int, n int) []string {
	out := make([]string, n)
	for i := range out {
		b := appendInt(nil, pick(r, first))
		for j := 0; j < 3; j++ {
			b = append(b, '.')
			b = appendInt(b, 1+r.intn(254))
		}
		out[i] = string(b)
	}
	return out
}

func (a *account) privateIP(r *rng) string {
	b := []byte("10.")
	b = appendInt(b, r.intn(256))
	b = append(b, '.')
	b = appendInt(b, r.intn(256))
	b = append(b, '.')
	b = appendInt(b, 1+r.intn(254))
	return string(b)
}

// principalCount is the number of principals of an account, for the summary.
func (a *account) principalCount() int {
	n := 0
	for _, ps := range a.byKind {
		n += len(ps)
	}
	return n
}

// iamUsers are the account's IAM users (CLI users first, then console users).
func (a *account) iamUsers() []*principal { return a.byKind[human][:35] }
