// Package openssltest runs the openssl command line as an independent
// implementation of SM2, SM3 and SM4 for cross-checks in tests.
//
// A machine without openssl skips those tests, except where
// VOUCHER_OPENSSL_TESTS=1 says they must run (CI): there a missing openssl
// fails them, so a cross-check can never pass by not running.
package openssltest

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of openssl, skipping or failing t without it.
func Require(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("VOUCHER_OPENSSL_TESTS") == "1" {
			t.Fatalf("VOUCHER_OPENSSL_TESTS=1 but openssl is not installed: %v", err)
		}
		t.Skip("openssl not installed (set VOUCHER_OPENSSL_TESTS=1 to require it)")
	}
	return path
}

// Run runs openssl with args and stdin, returning what it printed and
// whether it exited 0; its error output is kept in the error.
func Run(t testing.TB, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(Require(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &Error{Err: err, Stderr: stderr.String()}
	}
	return out, nil
}

// Error is a failed openssl run.
type Error struct {
	Err    error
	Stderr string
}

func (e *Error) Error() string { return "openssl: " + e.Err.Error() + ": " + e.Stderr }

// WriteFile writes data to a new file in t's temporary directory and
// returns its path: openssl takes keys, messages and signatures as files.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := t.TempDir() + "/" + name
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
