package awssetup

import (
	"testing"

	"github.com/trailalarm/trailalarm/internal/rules"
	"github.com/trailalarm/trailalarm/internal/testutil/awsemu"
)

// resetCloudWatch empties kumo's CloudWatch (its store is the process's), with the tags of
// every alarm name trailalarm could have given.
func resetCloudWatch(t testing.TB, env *awsemu.Env) {
	t.Helper()
	var names []string
	for _, r := range rules.AllBuiltin() {
		names = append(names, ResourceName(r.ID))
	}
	env.ResetCloudWatch(t, region, names...)
}
