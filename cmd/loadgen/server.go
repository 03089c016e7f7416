package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cqvoucher/db"
)

// memory is what /proc says about the server process, in KiB.
type memory struct {
	hwmKiB int64 // VmHWM: peak resident set since the process started
	rssKiB int64 // VmRSS at the moment of reading
}

func (m memory) hwmMiB() float64 { return float64(m.hwmKiB) / 1024 }
func (m memory) rssMiB() float64 { return float64(m.rssKiB) / 1024 }

// pass is one round of presses by every resident, and each server's
// memory right after it.
type pass struct {
	run crowdRun
	mem []memory // one per voucherd
	cpu cpuUse
}

// runDrop starts the run's voucherd processes, lets the crowd press (twice
// with -again) through all of them, reads the servers' memory while they
// still run, then (with -redeem) lets the cashiers redeem every voucher,
// and stops the servers.
func runDrop(ctx context.Context, s site, cfg config, fx fixture) ([]pass, *waveRun, error) {
	bin, cleanup, err := serverBinary(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	f, err := startFleet(ctx, bin, s, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer f.stop()
	for k, srv := range f {
		fmt.Printf("voucherd %d: pid %d on %s (log: %s); memory before the drop: %s\n",
			k+1, srv.cmd.Process.Pid, srv.addr, srv.logPath, describeMemory(srv.memory()))
	}

	urls := f.urls(fmt.Sprintf("/api/v1/resident/campaigns/%d/claims", fx.campaignID))
	rounds := 1
	if cfg.again {
		rounds = 2
	}
	var passes []pass
	for range rounds {
		before := cpuNow(f.pids()...)
		run := newCrowd(urls, claimBody(fx.tierID), cfg.conc, cfg.timeout).run(ctx, fx.tokens)
		used := cpuNow(f.pids()...).since(before)
		mem, err := f.memory()
		if err != nil {
			return nil, nil, err
		}
		passes = append(passes, pass{run, mem, used})
	}
	var wave *waveRun
	if cfg.redeem {
		w, err := redemptionWave(ctx, f, s, cfg, fx)
		if err != nil {
			return nil, nil, fmt.Errorf("redemption wave: %w", err)
		}
		wave = &w
	}
	if err := f.stop(); err != nil {
		return nil, nil, err
	}
	for _, srv := range f {
		if n := countInFile(srv.logPath, "database is locked"); n > 0 {
			fmt.Printf("server log %s: %d lines mention \"database is locked\"\n", srv.logPath, n)
		}
	}
	return passes, wave, ctx.Err()
}

// startFleet starts the -instances voucherd processes of a run on s, one
// after the other, each healthy before the next. A first start does what
// voucherd does once with new data: it seals the residents' phone numbers,
// which loadgen inserted in clear (a minute for millions). One process
// does it, alone; it is not part of the drop: the servers are started
// afresh, so that their peak memory is the drop's own.
func startFleet(ctx context.Context, bin string, s site, cfg config) (fleet, error) {
	t := time.Now()
	first, err := startServer(ctx, bin, s, 1, cfg.sync, nil)
	if err != nil {
		return nil, err
	}
	if err := first.stop(); err != nil {
		return nil, err
	}
	fmt.Printf("first start (sealing the residents' numbers, untimed) took %s\n", time.Since(t).Round(time.Millisecond))
	var f fleet
	for k := 1; k <= max(1, cfg.instances); k++ {
		srv, err := startServer(ctx, bin, s, k, cfg.sync, cfg.serverEnv)
		if err != nil {
			f.stop()
			return nil, err
		}
		f = append(f, srv)
	}
	return f, nil
}

// fleet is the voucherd processes of a run, all serving its one database.
type fleet []*server

func (f fleet) pids() []int {
	pids := make([]int, len(f))
	for i, s := range f {
		pids[i] = s.cmd.Process.Pid
	}
	return pids
}

// urls is path on each server, in the fleet's order: a crowd spreads its
// presses over them.
func (f fleet) urls(path string) []string {
	urls := make([]string, len(f))
	for i, s := range f {
		urls[i] = "http://" + s.addr + path
	}
	return urls
}

// memory reads every server's memory, in the fleet's order.
func (f fleet) memory() ([]memory, error) {
	ms := make([]memory, len(f))
	for i, s := range f {
		var err error
		if ms[i], err = s.memory(); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// stop stops every server and reports the first failure; harmless twice.
func (f fleet) stop() error {
	var first error
	for _, s := range f {
		if err := s.stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// serverBinary returns -server, or builds ./cmd/voucherd of this module
// into a temporary directory: a real binary, so that its memory is the
// server's alone (go run would put the toolchain in between).
func serverBinary(ctx context.Context, cfg config) (bin string, cleanup func(), err error) {
	if cfg.server != "" {
		return cfg.server, func() {}, nil
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", nil, errors.New("run loadgen inside the cqvoucher module, or pass -server")
	}
	tmp, err := os.MkdirTemp("", "loadgen-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	bin = filepath.Join(tmp, "voucherd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/voucherd")
	build.Dir = filepath.Dir(mod)
	if out, err := build.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("go build ./cmd/voucherd: %w\n%s", err, out)
	}
	return bin, cleanup, nil
}

// server is a running voucherd subprocess.
type server struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, valid after done
}

// startServer starts voucherd number k (from 1) of a run on s and waits
// until it is healthy. sync is SQLite's setting. On PostgreSQL every
// process is given s.dir, for its keys (the same for all).
func startServer(ctx context.Context, bin string, s site, k int, sync string, env []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "-data", s.dir, "-addr", addr, "-base-url", "http://" + addr}
	env = append(os.Environ(), env...)
	if s.postgres() {
		// The URL (with its password) goes in the environment, as
		// docs/postgres.md runs it, not on a command line anyone may list.
		env = append(env, "VOUCHERD_DATABASE_URL="+s.database)
	} else {
		args = append(args, "-synchronous", sync)
	}
	logPath := logPath(s, k)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// The server writes one access-log line per request; it goes to a file,
	// as in production, and that cost is part of what is measured.
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	srv := &server{cmd: cmd, addr: addr, logPath: logPath, done: make(chan struct{})}
	go func() {
		srv.err = cmd.Wait()
		logf.Close()
		close(srv.done)
	}()
	// Start-up seals residents' numbers stored in clear: allow for it.
	if err := srv.waitHealthy(ctx, 30*time.Second+startupPerResident*time.Duration(residentsIn(ctx, s.database))); err != nil {
		srv.stop()
		return nil, err
	}
	return srv, nil
}

// logPath is the log of voucherd number k of a run on s: on PostgreSQL
// each process has its own, voucherd-K.log; the one SQLite server logs to
// voucherd.log.
func logPath(s site, k int) string {
	if s.postgres() {
		return filepath.Join(s.dir, fmt.Sprintf("voucherd-%d.log", k))
	}
	return filepath.Join(s.dir, "voucherd.log")
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (s *server) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("voucherd exited before it was healthy (%v); see %s", s.err, s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		res, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("voucherd not healthy after %s; see %s", limit, s.logPath)
}

// stop asks the server to drain (SIGTERM) and kills it if it will not.
// Calling it again is harmless.
func (s *server) stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("voucherd did not stop within 15 s of SIGTERM; killed")
	}
	var exit *exec.ExitError
	if errors.As(s.err, &exit) {
		return fmt.Errorf("voucherd exited with %v; see %s", s.err, s.logPath)
	}
	return nil
}

// memory reads VmHWM and VmRSS of the server from /proc.
func (s *server) memory() (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return memory{}, fmt.Errorf("server memory: %w", err)
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			m.hwmKiB = kib
		case "VmRSS":
			m.rssKiB = kib
		}
	}
	return m, sc.Err()
}

func describeMemory(m memory, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("VmRSS %.1f MiB", m.rssMiB())
}

// countInFile counts the lines of a file that contain s.
func countInFile(path, s string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(line, []byte(s)) {
			n++
		}
	}
	return n
}

// startupPerResident is what sealing one resident's number at start-up
// may take at most, on a slow machine.
const startupPerResident = 100 * time.Microsecond

// residentsIn counts the residents of the run's database, for the
// start-up allowance (0 if it cannot tell).
func residentsIn(ctx context.Context, database string) int {
	n, err := readFigures(ctx, database, func(st *db.Store) (int64, error) { return st.ResidentCount(ctx) })
	if err != nil {
		return 0
	}
	return int(n)
}
