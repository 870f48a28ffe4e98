// Package moto starts moto server, the AWS emulator of trailalarm's integration tests, once
// per test binary, on a free loopback port.
package moto

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	once     sync.Once
	endpoint string
	cmd      *exec.Cmd
	startErr error
	logBuf   bytes.Buffer
)

// Endpoint starts moto server if it is not running and returns its URL, with all its state
// reset. Without moto the test fails, or is skipped under -short.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		if testing.Short() {
			t.Skipf("moto server: %v", startErr)
		}
		t.Fatalf("moto server: %v (install the Python package moto; .ci/run checks for it)", startErr)
	}
	resp, err := http.Post(endpoint+"/moto-api/reset", "", nil)
	if err != nil {
		t.Fatalf("reset moto: %v\n%s", err, logBuf.String())
	}
	resp.Body.Close()
	return endpoint
}

func start() {
	py, err := exec.LookPath("python3")
	if err != nil {
		startErr = fmt.Errorf("python3 not found")
		return
	}
	if err := exec.Command(py, "-c", "import moto.server").Run(); err != nil {
		startErr = fmt.Errorf("python3 cannot import moto.server")
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		startErr = err
		return
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd = exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		startErr = err
		return
	}
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(endpoint + "/moto-api/"); err == nil {
			resp.Body.Close()
			// Credentials the SDK's chain will find; moto accepts any.
			os.Setenv("AWS_ACCESS_KEY_ID", "testing")
			os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
			os.Setenv("AWS_REGION", "us-east-1")
			os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	startErr = fmt.Errorf("not listening after 30s:\n%s", logBuf.String())
	Stop()
}

// Stop ends moto server; call it from TestMain after m.Run.
func Stop() {
	if cmd != nil && cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		cmd = nil
	}
}
