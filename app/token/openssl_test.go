package token

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"cqvoucher/app/gmcrypto/openssltest"
)

// TestSM2VoucherVerifiesWithOpenSSL checks our SM2 vouchers against an
// independent implementation: OpenSSL verifies the signature of a voucher
// signed by a ring loaded from its key directory, reads our PKCS#8 key file,
// and signs a voucher our ring accepts.
func TestSM2VoucherVerifiesWithOpenSSL(t *testing.T) {
	openssltest.Require(t)
	dir := filepath.Join(t.TempDir(), "keys")
	r, err := Open(dir, SM2)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.Sign(sample())
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, r.ActiveThumbprint()+keySuffix)

	// Our key file is a PKCS#8 SM2 key to OpenSSL, and its public half is
	// the key the ring publishes.
	pubPEM, err := openssltest.Run(t, nil, "pkey", "-in", keyFile, "-pubout")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := r.publicKey(r.ActiveKID())
	der, err := smx509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}); !bytes.Equal(pubPEM, want) {
		t.Fatalf("openssl reads public key\n%s\nring has\n%s", pubPEM, want)
	}
	pubFile := openssltest.WriteFile(t, "pub.pem", pubPEM)

	verify := func(signingInput string, rawSig []byte) error {
		_, err := openssltest.Run(t, nil, "pkeyutl", "-verify", "-pubin", "-inkey", pubFile, "-rawin",
			"-in", openssltest.WriteFile(t, "msg", []byte(signingInput)),
			"-sigfile", openssltest.WriteFile(t, "sig", sm2DERSignature(rawSig)),
			"-digest", "sm3", "-pkeyopt", "distid:"+string(SM2UserID))
		return err
	}
	in, sig := splitJWS(t, tok)
	if err := verify(in, sig); err != nil {
		t.Fatalf("OpenSSL does not verify our SM2 voucher: %v", err)
	}
	// The check is real: one changed byte of the claims fails it.
	tampered := []byte(in)
	tampered[len(tampered)-1] ^= 1 // stays a base64url character
	if err := verify(string(tampered), sig); err == nil {
		t.Fatal("OpenSSL verified a tampered signing input")
	}

	// The other way round: OpenSSL signs with our key file, our ring verifies.
	signingInput := strings.SplitN(tok, ".", 3)
	osslDER, err := openssltest.Run(t, nil, "pkeyutl", "-sign", "-inkey", keyFile, "-rawin",
		"-in", openssltest.WriteFile(t, "msg", []byte(signingInput[0]+"."+signingInput[1])),
		"-digest", "sm3", "-pkeyopt", "distid:"+string(SM2UserID))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sm2RawSignature(osslDER)
	if err != nil {
		t.Fatal(err)
	}
	osslTok := signingInput[0] + "." + signingInput[1] + "." + base64.RawURLEncoding.EncodeToString(raw)
	if _, err := r.Verify(osslTok, t0, nil); err != nil {
		t.Fatalf("our ring rejects the voucher OpenSSL signed: %v", err)
	}
}

func splitJWS(t *testing.T, tok string) (signingInput string, sig []byte) {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return tok[:i], sig
}
