package app

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"cqvoucher/app/gmcrypto"
)

// Sealer encrypts personal data before it is stored and decrypts it when
// read. context names what the value is (e.g. "residents.phone") and is
// authenticated with it, so a sealed value copied into another column
// does not open there. Implementations tag their output with their
// algorithm, so that a store written under one mode refuses, instead of
// misreading, values of another.
type Sealer interface {
	Seal(plain []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// sealAES256GCM tags values sealed by AESSealer: tag, 12-byte nonce, then
// the ciphertext with its 16-byte tag. Other modes (SM4) take other tags.
const sealAES256GCM byte = 0x01

// ErrSealed says a sealed value could not be opened: wrong key, wrong
// context, another algorithm, or altered bytes.
var ErrSealed = errors.New("sealed value does not open")

type aesSealer struct{ aead cipher.AEAD }

// NewAESSealer seals with AES-256-GCM under a 32-byte key kept outside the
// database. Nonces are random 96-bit values, which NIST SP 800-38D allows
// for up to 2^32 values under one key: far more phones than Chongqing has.
func NewAESSealer(key []byte) (Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealer: AES-256 needs a 32-byte key, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return aesSealer{aead}, nil
}

func (s aesSealer) Seal(plain []byte, context string) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = sealAES256GCM
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[1:], plain, []byte(context)), nil
}

func (s aesSealer) Open(sealed []byte, context string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealAES256GCM {
		return nil, ErrSealed
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(context))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// sealSM4GCM tags values sealed by the SM4 sealer (GB/T 32907 SM4 in GCM,
// RFC 8998): the commercial cryptography mode's data at rest.
const sealSM4GCM byte = 0x02

type sm4Sealer struct{ gcm *gmcrypto.SM4GCM }

// NewSM4Sealer seals with SM4-GCM under the first 16 bytes of key, for
// the commercial cryptography mode (-crypto gm).
func NewSM4Sealer(key []byte) (Sealer, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("sealer: SM4 needs a 16-byte key, not %d", len(key))
	}
	gcm, err := gmcrypto.NewSM4GCM(key[:16])
	if err != nil {
		return nil, err
	}
	return sm4Sealer{gcm}, nil
}

func (s sm4Sealer) Seal(plain []byte, context string) ([]byte, error) {
	sealed, err := s.gcm.Seal(plain, []byte(context))
	if err != nil {
		return nil, err
	}
	return append([]byte{sealSM4GCM}, sealed...), nil
}

func (s sm4Sealer) Open(sealed []byte, context string) ([]byte, error) {
	if len(sealed) < 1 || sealed[0] != sealSM4GCM {
		return nil, ErrSealed
	}
	plain, err := s.gcm.Open(sealed[1:], []byte(context))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// SealerOf seals new values with the mode's sealer and opens values of
// any mode it knows, by their tag: data sealed before a change of
// -crypto stays readable, and each resident's number moves to the
// current mode when it is next sealed (at sign-in).
func SealerOf(current Sealer, older ...Sealer) Sealer {
	return multiSealer{current: current, all: append([]Sealer{current}, older...)}
}

type multiSealer struct {
	current Sealer
	all     []Sealer
}

func (m multiSealer) Seal(plain []byte, context string) ([]byte, error) {
	return m.current.Seal(plain, context)
}

func (m multiSealer) Open(sealed []byte, context string) ([]byte, error) {
	for _, s := range m.all {
		if plain, err := s.Open(sealed, context); err == nil {
			return plain, nil
		}
	}
	return nil, ErrSealed
}
