package token

import (
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

const (
	activeFile = "active"
	keySuffix  = ".pem"
	// maxKeyFile bounds reads of files in the key directory; a PKCS#8
	// Ed25519 PEM is about 120 bytes, an SM2 one about 250.
	maxKeyFile = 16 << 10
)

// Ring holds every public key that may still have live vouchers, plus the one
// private key currently used for signing. Retired private keys are not kept
// in memory: they are never needed again, and less key material in the
// process means less to leak. Keys of both kinds verify side by side, each
// only tokens of its own algorithm, so vouchers signed before a change of
// kind keep verifying. Safe for concurrent use.
//
// Each key is known by two kids: its short kid, which tokens signed now
// carry, and its full RFC 7638 thumbprint, which tokens signed before the
// short kid carry and which names its file. The JWKS publishes it under
// both, so a standard JOSE library verifies old and new tokens alike.
type Ring struct {
	mu     sync.RWMutex
	pubs   map[string]verifyKey // by short kid and by thumbprint
	active string               // short kid of the signing key
	priv   crypto.Signer
	kind   Kind // what Rotate makes
}

// errKIDClash is a new key whose short kid another key of the ring has.
var errKIDClash = errors.New("token: two keys share a short kid")

// add puts a key into the ring under both its kids and returns the short
// one. The caller holds the write lock or owns the ring alone.
func (r *Ring) add(v verifyKey) (string, error) {
	short, long := v.shortKID(), v.thumbprint()
	if other, ok := r.pubs[short]; ok && other.thumbprint() != long {
		return "", fmt.Errorf("%w: %s and %s are both %s; remove one of their key files", errKIDClash, long, other.thumbprint(), short)
	}
	r.pubs[short], r.pubs[long] = v, v
	return short, nil
}

// NewRing builds an in-memory ring of Ed25519 or *sm2.PrivateKey keys.
// Every key verifies; the last one signs, and Rotate makes keys of its
// kind (Ed25519 for an empty ring). It panics on any other key, which is a
// programming error.
func NewRing(keys ...crypto.Signer) *Ring {
	r := &Ring{pubs: make(map[string]verifyKey), kind: Ed25519}
	for _, k := range keys {
		v, err := kindOf(k)
		if err != nil {
			panic("token: NewRing: " + err.Error())
		}
		kid, err := r.add(v)
		if err != nil {
			panic("token: NewRing: " + err.Error())
		}
		r.active, r.priv, r.kind = kid, k, v.kind
	}
	return r
}

// ActiveKID is the (short) kid new tokens are signed with ("" for an empty ring).
func (r *Ring) ActiveKID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active
}

// ActiveThumbprint is the signing key's RFC 7638 thumbprint, which names
// its file in the key directory and in "active" ("" for an empty ring).
func (r *Ring) ActiveThumbprint() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.active == "" {
		return ""
	}
	return r.pubs[r.active].thumbprint()
}

// ActiveKind is the kind of the signing key, which is the kind Rotate makes.
func (r *Ring) ActiveKind() Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.kind
}

func (r *Ring) signer() (string, crypto.Signer, Kind) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active, r.priv, r.kind
}

func (r *Ring) publicKey(kid string) (verifyKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.pubs[kid]
	return v, ok
}

// Thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 key: the kid of
// tokens signed before the short kid, and the name of the key's file. It is
// derived from the key itself, so it can never be reused for a different
// key and verifiers can recompute it from the JWKS.
func Thumbprint(pub ed25519.PublicKey) string { return verifyKey{Ed25519, pub}.thumbprint() }

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKS publishes every verification key (for /.well-known/jwks.json), sorted
// by kid so the document is byte-identical however the ring was assembled,
// which keeps HTTP caching and ETags meaningful.
func (r *Ring) JWKS() []byte {
	r.mu.RLock()
	keys := make([]jwk, 0, len(r.pubs))
	for kid, v := range r.pubs {
		keys = append(keys, v.jwk(kid))
	}
	r.mu.RUnlock()
	slices.SortFunc(keys, func(a, b jwk) int { return strings.Compare(a.Kid, b.Kid) })
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{keys})
	if err != nil {
		// Only strings go in; marshalling cannot fail.
		panic(err)
	}
	return b
}

// LoadOrCreate is Open for Ed25519 signing keys, the default.
func LoadOrCreate(dir string) (*Ring, error) { return Open(dir, Ed25519) }

// Open opens the key directory for signing with a key of the given kind,
// creating it with a first key when it is empty. When the active key is of
// another kind (the deployment changed its cryptography mode), a key of
// this kind is made and named active; the old keys stay and keep verifying
// what they signed. Keys live in files rather than the database so that a
// database backup, which travels widely, cannot forge vouchers.
func Open(dir string, kind Kind) (*Ring, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("token: key directory not configured")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("token: create key directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("token: key directory: %w", err)
	}
	// Whoever can write here can plant a key or repoint "active", i.e. forge.
	if st.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("token: key directory %s has mode %04o; it must not be writable by group or others (chmod 700)", dir, st.Mode().Perm())
	}

	keys, active, err := readKeys(dir)
	if err != nil {
		return nil, err
	}
	if active == "" || keys[active] == nil || keys[active].kind != kind {
		// A first start, a crash before "active" was written, a change of
		// kind, or a read that raced another first start (the directory
		// listed before its key was linked, "active" read after). Two
		// processes starting at once must end with one signing key, not
		// one each: the choice is made once, under the directory's lock,
		// after reading the directory again.
		unlock, err := lockKeyDir(dir)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if keys, active, err = readKeys(dir); err != nil {
			return nil, err
		}
	}
	r := &Ring{pubs: make(map[string]verifyKey), kind: kind}
	for _, k := range keys {
		if _, err := r.add(k.verifyKey); err != nil {
			return nil, err
		}
	}
	switch {
	case active != "":
	case len(keys) == 0:
		if _, err := r.rotate(dir, kind); err != nil {
			return nil, err
		}
		return r, nil
	case len(keys) == 1:
		// With a single key there is nothing to guess.
		for kid := range keys {
			active = kid
		}
		if err := writeFileAtomic(dir, activeFile, []byte(active+"\n")); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("token: read %s: %w", filepath.Join(dir, activeFile), os.ErrNotExist)
	}
	k, ok := keys[active]
	if !ok {
		return nil, fmt.Errorf("token: %s names key %q, which is not in %s", filepath.Join(dir, activeFile), active, dir)
	}
	if k.kind != kind {
		if _, err := r.rotate(dir, kind); err != nil {
			return nil, err
		}
		return r, nil
	}
	r.active, r.priv = k.shortKID(), k.priv
	return r, nil
}

// keyFile is a private key read from the key directory.
type keyFile struct {
	verifyKey
	priv crypto.Signer
}

// readKeys reads every private key in dir, by kid, and the active kid
// ("" when the active file does not exist).
func readKeys(dir string) (map[string]*keyFile, string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, "", fmt.Errorf("token: read key directory: %w", err)
	}
	privs := make(map[string]*keyFile)
	for _, e := range entries {
		name := e.Name()
		// Dot files are our own half-written temporaries and the lock.
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, keySuffix) {
			continue
		}
		priv, err := readKeyFile(filepath.Join(dir, name))
		if err != nil {
			return nil, "", err
		}
		v, err := kindOf(priv)
		if err != nil {
			return nil, "", fmt.Errorf("token: key file %s: %w", filepath.Join(dir, name), err)
		}
		kid := v.thumbprint()
		if want := strings.TrimSuffix(name, keySuffix); kid != want {
			return nil, "", fmt.Errorf("token: key file %s holds key %s; the file name must be its kid", filepath.Join(dir, name), kid)
		}
		privs[kid] = &keyFile{v, priv}
	}
	active, err := readActive(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("token: read %s: %w", filepath.Join(dir, activeFile), err)
	}
	return privs, active, nil
}

// lockKeyDir takes an exclusive flock(2) on dir/.lock, waiting for it, and
// returns its release. It orders key-directory changes between processes
// (and between goroutines: each call opens its own descriptor); the kernel
// releases it if the process dies.
func lockKeyDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("token: lock key directory: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("token: lock key directory: %w", err)
	}
	return func() { f.Close() }, nil
}

func readActive(dir string) (string, error) {
	f, err := os.Open(filepath.Join(dir, activeFile))
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func readKeyFile(path string) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token: open key file: %w", err)
	}
	defer f.Close()
	// Stat the open descriptor, not the path, so the mode checked is the mode
	// of the very file read.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("token: stat key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("token: key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("token: key file %s has mode %04o; private keys must not be accessible by group or others (chmod 600 %s)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return nil, fmt.Errorf("token: read key file %s: %w", path, err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("token: key file %s: no PKCS#8 \"PRIVATE KEY\" PEM block", path)
	}
	priv, err := parsePKCS8(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("token: key file %s: %w", path, err)
	}
	return priv, nil
}

// Rotate generates a key of the ring's kind (ActiveKind), persists it to dir
// and makes it the signer. Older
// keys stay in the ring so vouchers already printed keep verifying; remove a
// key file only after the last voucher it signed has expired.
//
// The key file is written before "active" names it, and memory changes last,
// so a crash at any point leaves a directory that loads into a working ring.
func (r *Ring) Rotate(dir string) (kid string, err error) {
	return r.RotateTo(dir, r.ActiveKind())
}

// RotateTo is Rotate to a key of the given kind, which Rotate makes from
// then on.
func (r *Ring) RotateTo(dir string, kind Kind) (kid string, err error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return "", err
	}
	if dir == "" {
		// A key that lives only in memory would orphan every voucher it signs
		// at the next restart.
		return "", errors.New("token: rotate: key directory not configured")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("token: create key directory: %w", err)
	}
	// Two rotations at once (a second "voucherd keys rotate", a first
	// start) would otherwise each name their own key active.
	unlock, err := lockKeyDir(dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	return r.rotate(dir, kind)
}

// rotate is RotateTo for a caller that holds the key directory's lock. It
// returns the new key's short kid.
func (r *Ring) rotate(dir string, kind Kind) (kid string, err error) {
	// Hold the write lock across the file writes so concurrent rotations
	// cannot leave "active" naming a key other than the ring's signer.
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pubs == nil {
		r.pubs = make(map[string]verifyKey)
	}
	var priv crypto.Signer
	var v verifyKey
	// A short kid another key has would make tokens ambiguous: draw again
	// (with a few keys in 10^8 kids, a second draw is already rare).
	for attempt := 0; ; attempt++ {
		if priv, err = kind.generate(); err != nil {
			return "", fmt.Errorf("token: generate %s key: %w", kind, err)
		}
		if v, err = kindOf(priv); err != nil {
			return "", err
		}
		if _, taken := r.pubs[v.shortKID()]; !taken {
			break
		}
		if attempt == 16 {
			return "", errKIDClash
		}
	}
	der, err := marshalPKCS8(priv)
	if err != nil {
		return "", fmt.Errorf("token: encode key: %w", err)
	}
	long := v.thumbprint()
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeFileAtomic(dir, long+keySuffix, pemBytes); err != nil {
		return "", err
	}
	if err := writeFileAtomic(dir, activeFile, []byte(long+"\n")); err != nil {
		return "", err
	}
	if kid, err = r.add(v); err != nil {
		return "", err
	}
	r.active, r.priv, r.kind = kid, priv, kind
	return kid, nil
}

// writeFileAtomic writes via a 0600 temporary and a rename, so readers see
// either the old file or the complete new one, never a torn key.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("token: write %s: %w", name, err)
	}
	syncDir(dir)
	return nil
}

// CreateFile writes data to dir/name (mode 0600) only if no such file
// exists, whole or not at all: a complete temporary is linked to the
// name, which fails if the name is taken. When two processes create the
// same secret at once, one wins and the other gets an error matching
// fs.ErrExist and reads the winner's file.
func CreateFile(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("token: create %s: %w", name, err)
	}
	syncDir(dir)
	return nil
}

// writeTemp writes data to a synced 0600 temporary in dir and returns its
// path; the caller gives it its final name.
func writeTemp(dir, name string, data []byte) (tmp string, err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return "", fmt.Errorf("token: write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("token: write %s: %w", name, err)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return "", err
	}
	if _, err = f.Write(data); err != nil {
		return "", err
	}
	if err = f.Sync(); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// syncDir persists a new name in dir; without it a power cut can lose a
// key that has already signed vouchers.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
