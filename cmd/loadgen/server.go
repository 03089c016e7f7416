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

// pass is one round of presses by every resident, and the server's
// memory right after it.
type pass struct {
	run crowdRun
	mem memory
	cpu cpuUse
}

// runDrop starts voucherd on the prepared data directory, lets the crowd
// press (twice with -again), reads the server's memory while it still
// runs, then (with -redeem) lets the cashiers redeem every voucher, and
// stops the server.
func runDrop(ctx context.Context, dir string, cfg config, fx fixture) ([]pass, *waveRun, error) {
	bin, cleanup, err := serverBinary(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	// A first start does what voucherd does once with new data: it seals
	// the residents' phone numbers, which loadgen inserted in clear (a
	// minute for millions). It is not part of the drop: the server is
	// started again, so that its peak memory is the drop's own.
	t := time.Now()
	first, err := startServer(ctx, bin, dir, cfg.sync, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := first.stop(); err != nil {
		return nil, nil, err
	}
	fmt.Printf("first start (sealing %d residents' numbers, untimed) took %s\n", cfg.residents, time.Since(t).Round(time.Millisecond))
	srv, err := startServer(ctx, bin, dir, cfg.sync, cfg.serverEnv)
	if err != nil {
		return nil, nil, err
	}
	defer srv.stop()
	fmt.Printf("voucherd pid %d on %s (log: %s); memory before the drop: %s\n",
		srv.cmd.Process.Pid, srv.addr, srv.logPath, describeMemory(srv.memory()))

	url := fmt.Sprintf("http://%s/api/v1/resident/campaigns/%d/claims", srv.addr, fx.campaignID)
	rounds := 1
	if cfg.again {
		rounds = 2
	}
	var passes []pass
	for range rounds {
		before := cpuNow(srv.cmd.Process.Pid)
		run := newCrowd(url, claimBody(fx.tierID), cfg.conc, cfg.timeout).run(ctx, fx.tokens)
		used := cpuNow(srv.cmd.Process.Pid).since(before)
		mem, err := srv.memory()
		if err != nil {
			return nil, nil, err
		}
		passes = append(passes, pass{run, mem, used})
	}
	var wave *waveRun
	if cfg.redeem {
		w, err := redemptionWave(ctx, srv, dir, cfg, fx)
		if err != nil {
			return nil, nil, fmt.Errorf("redemption wave: %w", err)
		}
		wave = &w
	}
	if err := srv.stop(); err != nil {
		return nil, nil, err
	}
	if n := countInFile(srv.logPath, "database is locked"); n > 0 {
		fmt.Printf("server log: %d lines mention \"database is locked\"\n", n)
	}
	return passes, wave, ctx.Err()
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

func startServer(ctx context.Context, bin, dir, sync string, env []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "voucherd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// The server writes one access-log line per request; it goes to a file,
	// as in production, and that cost is part of what is measured.
	cmd := exec.Command(bin, "serve", "-data", dir, "-addr", addr, "-synchronous", sync, "-base-url", "http://"+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, logPath: logPath, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	// Start-up seals residents' numbers stored in clear: allow for it.
	if err := s.waitHealthy(ctx, 30*time.Second+startupPerResident*time.Duration(residentsIn(ctx, dir))); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
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

// residentsIn counts the residents of the data directory's database, read
// only, for the start-up allowance (0 if it cannot tell).
func residentsIn(ctx context.Context, dir string) int {
	n, err := readFigures(ctx, filepath.Join(dir, "voucher.db"), func(st *db.Store) (int64, error) { return st.ResidentCount(ctx) })
	if err != nil {
		return 0
	}
	return int(n)
}
