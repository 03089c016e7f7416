package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/golang-jwt/jwt/v5"
)

// Kind is a kind of signing key. Each kind signs with exactly one JWS
// algorithm, and a key verifies only tokens of its own kind's algorithm.
type Kind string

const (
	// Ed25519 keys sign EdDSA tokens: the default, which any JOSE library
	// verifies.
	Ed25519 Kind = "ed25519"
	// SM2 keys sign SM2SM3 tokens, for deployments held to the commercial
	// cryptography standards (GB/T 39786).
	SM2 Kind = "sm2"
)

// ParseKind reads a kind by its name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Ed25519, SM2:
		return k, nil
	}
	return "", fmt.Errorf("token: unknown key kind %q (ed25519 or sm2)", s)
}

// Method is the one signing method tokens of this kind carry.
func (k Kind) Method() jwt.SigningMethod {
	if k == SM2 {
		return SigningMethodSM2SM3
	}
	return jwt.SigningMethodEdDSA
}

// validAlgs are the algorithms the parser lets through to keyFor, which
// then holds each kid to its own.
var validAlgs = []string{jwt.SigningMethodEdDSA.Alg(), AlgSM2SM3}

func (k Kind) generate() (crypto.Signer, error) {
	if k == SM2 {
		return sm2.GenerateKey(rand.Reader)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
}

// verifyKey is a public key together with the kind it belongs to.
type verifyKey struct {
	kind Kind
	pub  crypto.PublicKey // ed25519.PublicKey, or *ecdsa.PublicKey on the SM2 curve
}

// kindOf tells the kind of a private key, and refuses every other key type.
func kindOf(priv crypto.Signer) (verifyKey, error) {
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return verifyKey{}, fmt.Errorf("token: Ed25519 private key has %d bytes, want %d", len(k), ed25519.PrivateKeySize)
		}
		return verifyKey{Ed25519, k.Public()}, nil
	case *sm2.PrivateKey:
		return verifyKey{SM2, &k.PublicKey}, nil
	}
	return verifyKey{}, fmt.Errorf("token: a %T is not an Ed25519 or SM2 signing key", priv)
}

// thumbprint is the RFC 7638 JWK thumbprint of the key: the kid of
// tokens signed before the short kid, and the name of the key's file.
func (v verifyKey) thumbprint() string {
	return base64.RawURLEncoding.EncodeToString(v.thumbprintDigest())
}

// shortKID is the kid new tokens carry: the thumbprint's first 64 bits,
// shown as 8 decimal digits (their value modulo 10^8). Digits pack into the
// QR's numeric mode with the rest of a packed token; 10^8 values keep a
// ring of a few keys apart (Rotate draws again on a clash), and like the
// thumbprint it is recomputed from the JWKS by anyone who cares to.
func (v verifyKey) shortKID() string {
	n := binary.BigEndian.Uint64(v.thumbprintDigest()) % 100_000_000
	return fmt.Sprintf("%08d", n)
}

func (v verifyKey) thumbprintDigest() []byte {
	var canon string
	if v.kind == Ed25519 {
		canon = `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(v.pub.(ed25519.PublicKey)) + `"}`
	} else {
		j := v.jwk("")
		// RFC 7638 §3.2: required members only, lexicographic order, no spaces.
		canon = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	}
	sum := sha256.Sum256([]byte(canon))
	return sum[:]
}

// jwk publishes the public key. An SM2 key is an elliptic-curve key like
// P-256 (RFC 7518 §6.2: kty "EC", 32-byte big-endian x and y) on the curve
// "SM2", as JOSE libraries that support SM2 and the SM2 JOSE draft
// (draft-dang-webauthn-sm2) write it.
func (v verifyKey) jwk(kid string) jwk {
	if v.kind == Ed25519 {
		return jwk{
			Kty: "OKP", Crv: "Ed25519",
			X:   base64.RawURLEncoding.EncodeToString(v.pub.(ed25519.PublicKey)),
			Kid: kid, Use: "sig", Alg: jwt.SigningMethodEdDSA.Alg(),
		}
	}
	pub := v.pub.(*ecdsa.PublicKey)
	var x, y [32]byte
	pub.X.FillBytes(x[:])
	pub.Y.FillBytes(y[:])
	return jwk{
		Kty: "EC", Crv: "SM2",
		X:   base64.RawURLEncoding.EncodeToString(x[:]),
		Y:   base64.RawURLEncoding.EncodeToString(y[:]),
		Kid: kid, Use: "sig", Alg: AlgSM2SM3,
	}
}

// parsePKCS8 reads a PKCS#8 private key of either kind. The SM2 parser
// also reads Ed25519 keys (it hands every algorithm it does not know to
// the standard library's), so one parser serves both.
func parsePKCS8(der []byte) (crypto.Signer, error) {
	k, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *sm2.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("holds a %T, want an Ed25519 or SM2 key", k)
}

// marshalPKCS8 writes a private key of either kind as PKCS#8 DER; an SM2
// key as an EC key on the SM2 curve (OID 1.2.156.10197.1.301), as OpenSSL
// and GmSSL write and read it.
func marshalPKCS8(priv crypto.Signer) ([]byte, error) {
	return smx509.MarshalPKCS8PrivateKey(priv)
}
