// Package postgres starts Debian's PostgreSQL server once per test binary, as the postgres
// user, on a free loopback port in a temporary directory, and gives each test a fresh database.
package postgres

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	once     sync.Once
	dir      string // the cluster's directory: data, socket, log
	port     int
	cmd      *exec.Cmd
	startErr error
	logBuf   bytes.Buffer
	logMu    sync.Mutex
	dbSeq    atomic.Int64
)

// DSN starts the server if it is not running, creates an empty database for the test and
// returns its connection string (user postgres, trust authentication, no TLS). The database is
// dropped when the test ends. Without PostgreSQL the test fails, or is skipped under -short.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		if testing.Short() {
			t.Skipf("postgresql: %v", startErr)
		}
		t.Fatalf("postgresql: %v (install Debian's postgresql package; scripts/test does)", startErr)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url("postgres"))
	if err != nil {
		t.Fatalf("connect to postgresql: %v\n%s", err, serverLog())
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, url("postgres"))
		if err != nil {
			return // the server is gone: the directory goes with Stop
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return url(name)
}

func url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, db)
}

func serverLog() string {
	logMu.Lock()
	defer logMu.Unlock()
	return logBuf.String()
}

type lockedWriter struct{}

func (lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return logBuf.Write(p)
}

// binDir finds the server's binaries: Debian installs them per major version.
func binDir() (string, error) {
	if d := os.Getenv("TRAILALARM_PG_BIN"); d != "" {
		return d, nil
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", fmt.Errorf("initdb not found in /usr/lib/postgresql/*/bin or on PATH")
	}
	return filepath.Dir(m[len(m)-1]), nil // the newest version
}

func start() {
	bin, err := binDir()
	if err != nil {
		startErr = err
		return
	}
	// initdb and the server refuse to run as root: run them as the postgres user then.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			startErr = fmt.Errorf("running as root and there is no postgres user to run the server as: %v", err)
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if dir, err = os.MkdirTemp("", "trailalarm-pg-"); err != nil {
		startErr = err
		return
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			startErr = err
			return
		}
	}
	command := func(name string, args ...string) *exec.Cmd {
		c := exec.Command(filepath.Join(bin, name), args...)
		c.Dir = dir
		c.Env = []string{"LANG=C", "LC_ALL=C", "PATH=" + os.Getenv("PATH"), "HOME=" + dir}
		c.Stdout, c.Stderr = lockedWriter{}, lockedWriter{}
		c.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
		return c
	}
	data := filepath.Join(dir, "data")
	if err := command("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync").Run(); err != nil {
		startErr = fmt.Errorf("initdb: %v\n%s", err, serverLog())
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		startErr = err
		return
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	// The server runs in the foreground as this process's child, so that Pdeathsig ends it
	// with the test binary; fsync off: a test cluster need not survive a power loss (benchmarks
	// set TRAILALARM_PG_DURABLE=1 to measure with the production settings).
	args := []string{"-D", data, "-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "unix_socket_directories=" + dir, "-c", "max_connections=200"}
	if os.Getenv("TRAILALARM_PG_DURABLE") == "" {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off")
	}
	cmd = command("postgres", args...)
	if err := cmd.Start(); err != nil {
		startErr = err
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, url("postgres"))
		if err == nil {
			c.Close(ctx)
			cancel()
			return
		}
		cancel()
		time.Sleep(100 * time.Millisecond)
	}
	startErr = fmt.Errorf("not accepting connections after 30s:\n%s", serverLog())
	Stop()
}

// Stop shuts the server down and removes its directory; call it from TestMain after m.Run.
func Stop() {
	if cmd != nil && cmd.Process != nil {
		// SIGINT is PostgreSQL's fast shutdown: it ends the sessions and stops.
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		cmd = nil
	}
	if dir != "" {
		os.RemoveAll(dir)
		dir = ""
	}
}
