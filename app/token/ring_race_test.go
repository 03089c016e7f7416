package token

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestFirstStartsRacingMakeOneKey: servers starting at once on an empty
// key directory must all sign with the same key, and only one key file
// may exist; otherwise vouchers signed by the losers would stop verifying
// once "active" named another key and the losers' keys were never loaded.
func TestFirstStartsRacingMakeOneKey(t *testing.T) {
	for round := range 20 {
		dir := filepath.Join(t.TempDir(), "keys")
		const starts = 8
		kids := make([]string, starts)
		errs := make([]error, starts)
		var wg sync.WaitGroup
		begin := make(chan struct{})
		for i := range starts {
			wg.Go(func() {
				<-begin
				r, err := LoadOrCreate(dir)
				if err == nil {
					kids[i] = r.ActiveThumbprint()
				}
				errs[i] = err
			})
		}
		close(begin)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, start %d: %v", round, i, err)
			}
			if kids[i] != kids[0] {
				t.Fatalf("round %d: start %d signs with %s, start 0 with %s", round, i, kids[i], kids[0])
			}
		}
		pems, _ := filepath.Glob(filepath.Join(dir, "*"+keySuffix))
		if len(pems) != 1 || filepath.Base(pems[0]) != kids[0]+keySuffix {
			t.Fatalf("round %d: key files %v, want only %s%s", round, pems, kids[0], keySuffix)
		}
	}
}

// TestCreateFileNeverReplaces: the loser of a race gets ErrExist and the
// winner's content stays; no temporary is left behind.
func TestCreateFileNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	won := make([]bool, 8)
	for i := range won {
		wg.Go(func() {
			err := CreateFile(dir, "secret", []byte(strings.Repeat(string(rune('a'+i)), 32)))
			if err != nil && !errors.Is(err, fs.ErrExist) {
				t.Errorf("writer %d: %v", i, err)
			}
			won[i] = err == nil
		})
	}
	wg.Wait()
	winners := 0
	for _, w := range won {
		if w {
			winners++
		}
	}
	entries, _ := os.ReadDir(dir)
	if winners != 1 || len(entries) != 1 {
		t.Fatalf("%d writers won, directory holds %d entries; want 1 and 1", winners, len(entries))
	}
	fi, _ := os.Stat(filepath.Join(dir, "secret"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
}
