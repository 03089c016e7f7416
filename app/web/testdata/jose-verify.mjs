// Verifies voucher QR texts with panva/jose against the published JWKS, as
// a relying party outside the product would: nothing of ours but the URL.
//
//   node jose-verify.mjs <jwks-url> <unix-seconds-now> <qr-text>...
//
// prints one JSON line per QR text: {"ok":true,"header":…,"payload":…} or
// {"ok":false,"error":"<jose error code>"}. The packed form after /V/ is
// unpacked here from its published layout (app/token/pack.go), written
// again rather than shared, so that a mistake in either shows.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksURL, now, ...texts] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksURL));
const b64url = (s) => Buffer.from(s).toString('base64url');

function unpack(d) {
  const alg = { 1: 'EdDSA', 2: 'SM2SM3' }[d[0]];
  let i = 2;
  const take = (n) => d.slice(i, (i += n));
  const kid = take(8), jti = take(16), exp = take(10);
  const nbf = d[1] === '1' ? take(10) : null;
  const sig = Buffer.from(BigInt(d.slice(i)).toString(16).padStart(128, '0'), 'hex');
  const header = `{"alg":"${alg}","kid":"${kid}","typ":"cqv"}`;
  const payload = `{"exp":${exp},"jti":"${jti}"${nbf ? `,"nbf":${nbf}` : ''}}`;
  return `${b64url(header)}.${b64url(payload)}.${sig.toString('base64url')}`;
}

function tokenOf(text) {
  const packed = /\/V\/([0-9]+)$/.exec(text);
  if (packed) return unpack(packed[1]);
  const legacy = /\/v\/([^/?#]+)$/.exec(text);
  return legacy ? legacy[1] : text;
}

for (const text of texts) {
  const jws = tokenOf(text);
  // Explicit typing: a voucher is "cqv" (or "cqv+jwt", vouchers issued
  // before the compact form); any other JWT signed by the same key fails.
  let result = { ok: false, error: 'none tried' };
  for (const typ of ['cqv', 'cqv+jwt']) {
    try {
      const { payload, protectedHeader } = await jwtVerify(jws, jwks, {
        algorithms: ['EdDSA'], typ, currentDate: new Date(Number(now) * 1000), clockTolerance: 30,
      });
      result = { ok: true, header: protectedHeader, payload };
      break;
    } catch (e) {
      result = { ok: false, error: e.code || String(e) };
    }
  }
  console.log(JSON.stringify(result));
}
