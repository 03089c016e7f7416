package gmcrypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm4"

	"cqvoucher/app/gmcrypto/openssltest"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSealer(t *testing.T, key []byte) *SM4GCM {
	t.Helper()
	s, err := NewSM4GCM(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The example of GB/T 32907-2016 Appendix A.1, and the SM4-GCM example of
// RFC 8998 Appendix A.1: the cipher and the mode are the standard ones.
func TestSM4KnownAnswers(t *testing.T) {
	key := unhex(t, "0123456789abcdeffedcba9876543210")
	block, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	block.Encrypt(out, key)
	if want := "681edf34d206965e86b3e94f536e4246"; hex.EncodeToString(out) != want {
		t.Errorf("SM4 block: %x, want %s", out, want)
	}

	nonce := unhex(t, "00001234567800000000abcd")
	aad := unhex(t, "feedfacedeadbeeffeedfacedeadbeefabaddad2")
	plain := unhex(t, "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"+
		"eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa")
	want := unhex(t, "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"+
		"d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"+
		"83de3541e4c2b58177e065a9bf7b62ec")
	s := newSealer(t, key)
	sealed := append(append([]byte{}, nonce...), want...)
	got, err := s.Open(sealed, aad)
	if err != nil {
		t.Fatalf("RFC 8998 vector does not open: %v", err)
	}
	if !bytes.Equal(got, plain) {
		t.Errorf("RFC 8998 vector opens to %x", got)
	}
	if ct := s.aead.Seal(nil, nonce, plain, aad); !bytes.Equal(ct, want) {
		t.Errorf("RFC 8998 vector seals to %x", ct)
	}
}

func TestSM4GCMSealOpen(t *testing.T) {
	key := unhex(t, "000102030405060708090a0b0c0d0e0f")
	s := newSealer(t, key)
	plain, aad := []byte("13912345678"), []byte("residents.phone:42")
	a, err := s.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) || bytes.Equal(a[:12], b[:12]) {
		t.Error("two seals of one value share a nonce or a ciphertext: equal phones would show as equal")
	}
	if len(a) != 12+len(plain)+16 || bytes.Contains(a, plain) {
		t.Errorf("sealed value %x (%d bytes)", a, len(a))
	}
	got, err := s.Open(a, aad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if got, err := s.Open(mustSeal(t, s, nil, nil), nil); err != nil || len(got) != 0 {
		t.Errorf("empty value: %q, %v", got, err)
	}

	other := unhex(t, "0f0e0d0c0b0a09080706050403020100")
	refused := map[string]func() ([]byte, error){
		"another row's aad": func() ([]byte, error) { return s.Open(a, []byte("residents.phone:43")) },
		"no aad":            func() ([]byte, error) { return s.Open(a, nil) },
		"another key":       func() ([]byte, error) { return newSealer(t, other).Open(a, aad) },
		"truncated":         func() ([]byte, error) { return s.Open(a[:len(a)-1], aad) },
		"shorter than tag":  func() ([]byte, error) { return s.Open(a[:20], aad) },
		"empty":             func() ([]byte, error) { return s.Open(nil, aad) },
	}
	for i := range a {
		tampered := bytes.Clone(a)
		tampered[i] ^= 0x80
		if _, err := s.Open(tampered, aad); !errors.Is(err, ErrOpen) {
			t.Errorf("byte %d altered: %v", i, err)
		}
	}
	for name, open := range refused {
		if got, err := open(); !errors.Is(err, ErrOpen) || got != nil {
			t.Errorf("%s: got %q, %v", name, got, err)
		}
	}
}

func TestNewSM4GCMRefusesBadKeys(t *testing.T) {
	for _, n := range []int{0, 15, 17, 32} {
		if _, err := NewSM4GCM(make([]byte, n)); err == nil {
			t.Errorf("%d-byte key accepted", n)
		}
	}
}

// TestSM4GCMMatchesOpenSSL: GCM encrypts with the block cipher in counter
// mode from counter block nonce||2 (NIST SP 800-38D §7.1), so OpenSSL's
// SM4-CTR over the same key and counter must give our ciphertext.
// (openssl enc refuses AEAD modes; the tag is covered by the RFC 8998
// vector.)
func TestSM4GCMMatchesOpenSSL(t *testing.T) {
	openssltest.Require(t)
	key := unhex(t, "8899aabbccddeeff0011223344556677")
	s := newSealer(t, key)
	plain := []byte("身份证号 500103199001011234 and a phone 13912345678, longer than one block")
	sealed := mustSeal(t, s, plain, []byte("aad"))
	nonce, body := sealed[:12], sealed[12:len(sealed)-16]
	out, err := openssltest.Run(t, plain, "enc", "-sm4-ctr", "-K", hex.EncodeToString(key),
		"-iv", hex.EncodeToString(nonce)+"00000002", "-nosalt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, body) {
		t.Errorf("OpenSSL SM4-CTR gives\n%x\nour SM4-GCM ciphertext is\n%x", out, body)
	}
}

func mustSeal(t *testing.T, s *SM4GCM, plain, aad []byte) []byte {
	t.Helper()
	b, err := s.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
