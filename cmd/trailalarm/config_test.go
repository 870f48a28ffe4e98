package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	code, out, errOut := runCLI(t, "", "config", "validate", "../../examples/trailalarm.yaml")
	if code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("example config: exit %d, %s %s", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("sources:\n  - fodler: x\nnotifiers:\n  - type: slack\n    url: ${TRAILALARM_TEST_UNSET}\n"), 0o644)
	code, _, errOut = runCLI(t, "", "config", "validate", bad)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 2 || len(lines) != 2 || !strings.Contains(lines[0], "bad.yaml:2:5: unknown field") || !strings.Contains(lines[1], "bad.yaml:5:10: ${TRAILALARM_TEST_UNSET} is not set") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut = runCLI(t, "", "config", "validate", "/nonexistent.yaml"); code != 2 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
	if code, _, _ = runCLI(t, "", "config", "validate"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}
