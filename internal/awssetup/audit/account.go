package audit

import "time"

// Account is what audit reads from one account and region: the inputs of every control. Gather
// fills it from AWS; Evaluate decides the controls from it alone, so the decisions are tested
// without AWS as well as against the emulators.
type Account struct {
	ID     string // the account id (STS GetCallerIdentity)
	Region string // the audited region

	Trails      []Trail             // DescribeTrails in Region (shadow trails of multi-region trails included)
	LogGroups   map[string]bool     // log groups of Region that trails send to: name → exists
	Filters     map[string][]Filter // metric filters by log group name (only log groups audited)
	Alarms      []Alarm             // every metric alarm of Region
	Topics      map[string]*Topic   // SNS topics that alarms notify, by ARN
	SecurityHub SecurityHub         // DescribeHub
	Config      []Recorder          // AWS Config configuration recorders and their status
	Notes       []string            // what could not be read, and why it did not stop the audit
}

// Trail is a CloudTrail trail and its status.
type Trail struct {
	Name              string     `json:"name"`
	ARN               string     `json:"arn"`
	HomeRegion        string     `json:"homeRegion"`
	MultiRegion       bool       `json:"multiRegion"`
	Logging           bool       `json:"logging"`
	LogFileValidation bool       `json:"logFileValidation"`
	LogGroupARN       string     `json:"logGroupArn,omitempty"`
	RoleARN           string     `json:"cloudWatchLogsRoleArn,omitempty"`
	ManagementEvents  string     `json:"managementEvents"` // "All", "ReadOnly", "WriteOnly" or "None"
	DeliveryError     string     `json:"cloudWatchLogsDeliveryError,omitempty"`
	LastDelivery      *time.Time `json:"lastCloudWatchLogsDelivery,omitempty"`
}

// Filter is a CloudWatch Logs metric filter.
type Filter struct {
	Name            string           `json:"name"`
	LogGroup        string           `json:"logGroup"`
	Pattern         string           `json:"pattern"`
	Transformations []Transformation `json:"metricTransformations"`
}

// Transformation is a metric filter's metric transformation.
type Transformation struct {
	Name         string            `json:"metricName"`
	Namespace    string            `json:"metricNamespace"`
	Value        string            `json:"metricValue"`
	DefaultValue *float64          `json:"defaultValue,omitempty"`
	Dimensions   map[string]string `json:"dimensions,omitempty"`
}

// Alarm is a CloudWatch metric alarm, with the fields that decide whether it fires on one event.
type Alarm struct {
	Name              string            `json:"name"`
	ARN               string            `json:"arn,omitempty"`
	Namespace         string            `json:"namespace,omitempty"`
	MetricName        string            `json:"metricName,omitempty"`
	Dimensions        map[string]string `json:"dimensions,omitempty"`
	Statistic         string            `json:"statistic,omitempty"` // or an extended statistic such as p99
	Period            int32             `json:"period"`
	Threshold         float64           `json:"threshold"`
	Comparison        string            `json:"comparisonOperator"`
	EvaluationPeriods int32             `json:"evaluationPeriods"`
	DatapointsToAlarm int32             `json:"datapointsToAlarm,omitempty"` // 0: not set (= EvaluationPeriods)
	ActionsEnabled    bool              `json:"actionsEnabled"`
	Actions           []string          `json:"alarmActions"`
	MetricMath        bool              `json:"metricMath,omitempty"` // the alarm is on a metric math expression (Metrics), not a single metric
}

// Topic is an SNS topic and its subscriptions.
type Topic struct {
	ARN           string         `json:"arn"`
	Exists        bool           `json:"exists"`
	Error         string         `json:"error,omitempty"` // why it could not be read (another account's topic, a missing permission)
	Subscriptions []Subscription `json:"subscriptions"`
}

// Subscription is an SNS subscription.
type Subscription struct {
	ARN       string `json:"arn"` // "PendingConfirmation" while unconfirmed
	Protocol  string `json:"protocol"`
	Endpoint  string `json:"endpoint"`
	Confirmed bool   `json:"confirmed"` // an ARN, and GetSubscriptionAttributes does not say PendingConfirmation
}

// SecurityHub is the state of Security Hub in the region.
type SecurityHub struct {
	Enabled      bool   `json:"enabled"`
	HubARN       string `json:"hubArn,omitempty"`
	SubscribedAt string `json:"subscribedAt,omitempty"`
}

// Recorder is an AWS Config configuration recorder and its status.
type Recorder struct {
	Name          string `json:"name"`
	RoleARN       string `json:"roleArn"`
	AllSupported  bool   `json:"allSupported"`               // records all supported resource types
	IncludeGlobal bool   `json:"includeGlobalResourceTypes"` // and global ones (IAM)
	Recording     bool   `json:"recording"`
	LastStatus    string `json:"lastStatus,omitempty"`
}
