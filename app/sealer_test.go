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

// TestSealersAcrossAModeChange: -crypto gm seals with SM4 (tag 0x02),
// the default with AES-256-GCM (tag 0x01), and either mode opens what the
// other sealed, so a change of mode loses no resident's number.
func TestSealersAcrossAModeChange(t *testing.T) {
	key := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	aes, err := app.NewAESSealer(key(1))
	if err != nil {
		t.Fatal(err)
	}
	sm4, err := app.NewSM4Sealer(key(2))
	if err != nil {
		t.Fatal(err)
	}
	gm, def := app.SealerOf(sm4, aes), app.SealerOf(aes, sm4)
	byGM, err := gm.Seal([]byte("13800138000"), app.SealedResidentPhone)
	if err != nil || byGM[0] != 0x02 {
		t.Fatalf("gm mode sealed with tag %x, %v; want SM4 (0x02)", byGM[:1], err)
	}
	byDefault, err := def.Seal([]byte("13800138000"), app.SealedResidentPhone)
	if err != nil || byDefault[0] != 0x01 {
		t.Fatalf("default mode sealed with tag %x, %v; want AES (0x01)", byDefault[:1], err)
	}
	for name, c := range map[string][]byte{"gm's value in default mode": byGM, "default's value in gm mode": byDefault} {
		s := def
		if name == "default's value in gm mode" {
			s = gm
		}
		if plain, err := s.Open(c, app.SealedResidentPhone); err != nil || string(plain) != "13800138000" {
			t.Errorf("%s: %q, %v", name, plain, err)
		}
	}
	if _, err := gm.Open(byGM, app.SealedMerchantPhone); err != app.ErrSealed {
		t.Errorf("an SM4 value opened under another context: %v", err)
	}
	if _, err := sm4.Open(byDefault, app.SealedResidentPhone); err != app.ErrSealed {
		t.Errorf("the SM4 sealer opened an AES value: %v", err)
	}
}
