package token

import (
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// AlgSM2SM3 is the JWS "alg" of SM2 signatures over SM3 (GB/T 32918.2 with
// the Z value of GM/T 0009). The IANA JOSE registry lists no SM2 algorithm,
// so the name follows practice: "SM2SM3" is the mnemonic DNSSEC registered
// for this pairing (algorithm 17, RFC 9563) and the name crypto frameworks
// and SM2-capable JOSE code use for it. Naming the hash as well keeps it a
// fully specified algorithm in the sense of RFC 9864, and it cannot be taken
// for the curve name "SM2" that the JWK's crv carries.
const AlgSM2SM3 = "SM2SM3"

// SM2UserID is the signer identity mixed into every SM2 signature (the Z
// value): the default of GM/T 0009-2012, which OpenSSL, GmSSL and the
// usual verifiers assume when none is agreed.
var SM2UserID = []byte("1234567812345678")

// sm2SigSize is r||s, 32 bytes each, fixed width as RFC 7518 §3.4 has for
// ECDSA in JWS: a JWS carries raw integers, not ASN.1.
const sm2SigSize = 64

type signingMethodSM2 struct{}

// SigningMethodSM2SM3 signs with an *sm2.PrivateKey and verifies with an
// *ecdsa.PublicKey on the SM2 curve.
var SigningMethodSM2SM3 jwt.SigningMethod = &signingMethodSM2{}

func init() {
	jwt.RegisterSigningMethod(AlgSM2SM3, func() jwt.SigningMethod { return SigningMethodSM2SM3 })
}

func (*signingMethodSM2) Alg() string { return AlgSM2SM3 }

func (*signingMethodSM2) Sign(signingString string, key any) ([]byte, error) {
	priv, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s signs with an *sm2.PrivateKey, not %T", jwt.ErrInvalidKeyType, AlgSM2SM3, key)
	}
	der, err := priv.Sign(rand.Reader, []byte(signingString), sm2.NewSM2SignerOption(true, SM2UserID))
	if err != nil {
		return nil, err
	}
	return sm2RawSignature(der)
}

func (*signingMethodSM2) Verify(signingString string, sig []byte, key any) error {
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve != sm2.P256() {
		return fmt.Errorf("%w: %s verifies with an SM2 public key, not %T", jwt.ErrInvalidKeyType, AlgSM2SM3, key)
	}
	if len(sig) != sm2SigSize {
		return jwt.ErrSignatureInvalid
	}
	if !sm2.VerifyASN1WithSM2(pub, SM2UserID, []byte(signingString), sm2DERSignature(sig)) {
		return jwt.ErrSignatureInvalid
	}
	return nil
}

// sm2RawSignature turns the library's ASN.1 SEQUENCE{r, s} into r||s.
func sm2RawSignature(der []byte) ([]byte, error) {
	var r, s big.Int
	var inner cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, cbasn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() ||
		r.Sign() <= 0 || s.Sign() <= 0 || r.BitLen() > 256 || s.BitLen() > 256 {
		return nil, errors.New("token: SM2 signer returned a malformed signature")
	}
	out := make([]byte, sm2SigSize)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

// sm2DERSignature is the ASN.1 form of a JWS r||s signature, which is what
// other SM2 implementations (OpenSSL among them) take.
func sm2DERSignature(raw []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(raw[:len(raw)/2]))
		b.AddASN1BigInt(new(big.Int).SetBytes(raw[len(raw)/2:]))
	})
	return b.BytesOrPanic()
}
