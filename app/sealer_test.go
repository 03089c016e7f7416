package app_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"cqvoucher/app"
)

func newSealer(t *testing.T) app.Sealer {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	s, err := app.NewAESSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAESSealerOpensOnlyWithItsKeyAndContext(t *testing.T) {
	s := newSealer(t)
	phone := []byte("13912345678")
	sealed, err := s.Seal(phone, "residents.phone")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, phone) || sealed[0] != 0x01 {
		t.Fatalf("sealed value %x holds the number in clear or lacks its algorithm tag", sealed)
	}
	again, _ := s.Seal(phone, "residents.phone")
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of one number are equal: the nonce is not fresh")
	}
	if got, err := s.Open(sealed, "residents.phone"); err != nil || !bytes.Equal(got, phone) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	otherTag := bytes.Clone(sealed)
	otherTag[0] = 0x02 // another mode's value (SM4) is refused, not misread
	for name, tc := range map[string]struct {
		s       app.Sealer
		sealed  []byte
		context string
	}{
		"another context": {s, sealed, "merchants.contact_phone"},
		"another key":     {newSealer(t), sealed, "residents.phone"},
		"altered bytes":   {s, tampered, "residents.phone"},
		"another tag":     {s, otherTag, "residents.phone"},
		"truncated":       {s, sealed[:10], "residents.phone"},
	} {
		if got, err := tc.s.Open(tc.sealed, tc.context); !errors.Is(err, app.ErrSealed) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrSealed", name, got, err)
		}
	}
	if _, err := app.NewAESSealer(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted for AES-256")
	}
}
