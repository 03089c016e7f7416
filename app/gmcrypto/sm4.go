// Package gmcrypto holds the commercial cryptography (商用密码) the product
// uses in its gm mode besides voucher signatures (app/token) and the audit
// chain's SM3 (app/audit.go): SM4 (GB/T 32907) for data at rest.
package gmcrypto

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm4"
)

// SM4KeySize is the only key size SM4 has: 128 bits.
const SM4KeySize = sm4.BlockSize

// ErrOpen is every failure to open a sealed value: wrong key, wrong
// associated data, truncation or tampering look alike on purpose.
var ErrOpen = errors.New("gmcrypto: sealed value does not open (wrong key, wrong context or altered)")

// SM4GCM seals values with SM4 in GCM mode (GB/T 36624 lists SM4-GCM as
// an authenticated mode; RFC 8998 uses it in TLS). A sealed value is
// nonce (12 random bytes) || ciphertext || tag (16 bytes). It has the
// shape of the Sealer the storage of personal data takes:
//
//	Seal(plain, aad []byte) ([]byte, error)
//	Open(sealed, aad []byte) ([]byte, error)
//
// Random 96-bit nonces bound one key to about 2^32 seals (NIST SP 800-38D
// §8.3) — hundreds of times the residents of a city — so no counter state
// has to survive restarts or be shared between processes.
// Safe for concurrent use.
type SM4GCM struct {
	aead cipher.AEAD
}

// NewSM4GCM takes a 16-byte key, which must come from outside the
// database it protects.
func NewSM4GCM(key []byte) (*SM4GCM, error) {
	if len(key) != SM4KeySize {
		return nil, fmt.Errorf("gmcrypto: SM4 key has %d bytes, want %d", len(key), SM4KeySize)
	}
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("gmcrypto: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gmcrypto: %w", err)
	}
	return &SM4GCM{aead: aead}, nil
}

// Seal encrypts plain and binds it to aad (say, the table, column and row
// it belongs in, so a sealed value copied elsewhere does not open there).
func (s *SM4GCM) Seal(plain, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("gmcrypto: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, aad), nil
}

// Open decrypts what Seal made with the same key and aad.
func (s *SM4GCM) Open(sealed, aad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < ns+s.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := s.aead.Open(nil, sealed[:ns], sealed[ns:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
