package generate

// gen writes the records of one file. It holds the state of the record being
// written so that the body functions of templates stay short.
type gen struct {
	r      rng
	a      *account
	region string
	home   bool // the file's region receives global-service events
	t      int64

	// the call being written
	c    *call
	host string // tlsDetails clientProvidedHostHeader; set from the template, bodies may override
	res  []byte // "resources" array contents; bodies fill it
	// shared is set by bodies of calls that CloudTrail also logs in another
	// account or as a service event (sharedEventID).
	shared bool
}

// call is one API call to write: the template plus what the caller decided.
type call struct {
	t         *tmpl
	p         *principal
	identity  []byte // overrides p's userIdentity (ConsoleLogin)
	errCode   string
	errMsg    string
	eventType string // "" means AwsApiCall
	ip, ua    string // "" means one of the principal's
	mfa       string // ConsoleLogin: value of MFAUsed, "" to omit it
	loginOK   bool   // ConsoleLogin: success or failure
}

func (g *gen) failed() bool { return g.c.errCode != "" || g.c.errMsg != "" }

// record appends one CloudTrail record, in the field order CloudTrail uses.
func (g *gen) record(b []byte, c *call) []byte {
	t := c.t
	p := c.p
	g.c = c
	g.res = g.res[:0]
	g.shared = false
	g.host = t.host
	if g.host == "" {
		g.host = t.prefix + "." + g.region + ".amazonaws.com"
	}

	b = append(b, `{"eventVersion":"`...)
	b = append(b, t.version()...)
	b = append(b, `","userIdentity":`...)
	if c.identity != nil {
		b = append(b, c.identity...)
	} else {
		b = p.appendIdentity(b, g.t)
	}
	b = append(b, `,"eventTime":"`...)
	b = appendTime(b, g.t)
	b = append(b, `","eventSource":"`...)
	b = append(b, t.source...)
	b = append(b, `","eventName":"`...)
	b = append(b, t.name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, g.region...)
	b = append(b, `","sourceIPAddress":"`...)
	ip := c.ip
	if ip == "" {
		ip = pick(&g.r, p.ips)
	}
	b = append(b, ip...)
	b = append(b, `","userAgent":"`...)
	ua := c.ua
	if ua == "" {
		ua = pick(&g.r, p.uas)
	}
	b = append(b, ua...)
	b = append(b, '"')
	if c.errCode != "" {
		b = append(b, `,"errorCode":"`...)
		b = append(b, c.errCode...)
		b = append(b, '"')
	}
	if c.errMsg != "" {
		b = append(b, `,"errorMessage":"`...)
		b = append(b, c.errMsg...)
		b = append(b, '"')
	}
	b = append(b, ',')
	b = t.body(g, b)
	switch t.reqID {
	case reqUUID:
		b = append(b, `,"requestID":"`...)
		b = g.r.appendUUID(b)
		b = append(b, '"')
	case reqS3:
		b = append(b, `,"requestID":"`...)
		b = g.r.appendChars(b, upperAlnum, 16)
		b = append(b, '"')
	}
	b = append(b, `,"eventID":"`...)
	b = g.r.appendUUID(b)
	if t.readOnly {
		b = append(b, `","readOnly":true`...)
	} else {
		b = append(b, `","readOnly":false`...)
	}
	if len(g.res) > 0 {
		b = append(b, `,"resources":[`...)
		b = append(b, g.res...)
		b = append(b, ']')
	}
	b = append(b, `,"eventType":"`...)
	switch {
	case c.eventType != "":
		b = append(b, c.eventType...)
	case t.eventType != "":
		b = append(b, t.eventType...)
	default:
		b = append(b, "AwsApiCall"...)
	}
	if t.data {
		b = append(b, `","managementEvent":false,"recipientAccountId":"`...)
	} else {
		b = append(b, `","managementEvent":true,"recipientAccountId":"`...)
	}
	b = append(b, g.a.id...)
	b = append(b, '"')
	if g.shared {
		b = append(b, `,"sharedEventID":"`...)
		b = g.r.appendUUID(b)
		b = append(b, '"')
	}
	if p != nil && p.vpce != "" && !t.noTLS {
		b = append(b, `,"vpcEndpointId":"`...)
		b = append(b, p.vpce...)
		b = append(b, '"')
	}
	if t.data {
		b = append(b, `,"eventCategory":"Data"`...)
	} else {
		b = append(b, `,"eventCategory":"Management"`...)
	}
	// Calls made by AWS services on their own behalf carry no TLS details.
	if !t.noTLS && (p == nil || (p.kind != service && p.kind != svcRole)) {
		if g.r.intn(4) == 0 {
			b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"`...)
		} else {
			b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
		}
		b = append(b, g.host...)
		b = append(b, `"}`...)
	}
	if p != nil && p.console && c.identity == nil {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	return append(b, '}')
}

// Helpers for template bodies: they append JSON fragments with values drawn
// from the account's resources.

func (g *gen) arnPrefix(b []byte, svc string) []byte {
	b = append(b, "arn:aws:"...)
	b = append(b, svc...)
	b = append(b, ':')
	b = append(b, g.region...)
	b = append(b, ':')
	return append(b, g.a.id...)
}

func (g *gen) resource(typ, arnHead, name string) {
	if len(g.res) > 0 {
		g.res = append(g.res, ',')
	}
	g.res = append(g.res, `{"accountId":"`...)
	g.res = append(g.res, g.a.id...)
	g.res = append(g.res, `","type":"`...)
	g.res = append(g.res, typ...)
	g.res = append(g.res, `","ARN":"`...)
	g.res = append(g.res, arnHead...)
	g.res = append(g.res, name...)
	g.res = append(g.res, `"}`...)
}

func (g *gen) resourceRegional(typ, svc, rest string) {
	head := string(g.arnPrefix(nil, svc)) + ":"
	g.resource(typ, head, rest)
}
