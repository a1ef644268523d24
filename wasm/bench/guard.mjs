// `node wasm/bench/guard.mjs`: one DPoP-bound ES256 access token and one ES256 proof,
// interleaved rounds in one process. Compares ResourceGuard.check (each crypto choice)
// with the same checks composed from jose calls: verify the token, import the proof's
// embedded JWK and verify the proof, compare htm/htu/ath/iat, compute the thumbprint and
// compare it with cnf.jkt. Both sides skip replay state (ours: a cache that always says
// "first use"; jose has none), so the same proof can be checked again and again.
import * as jose from 'jose';
import { DpopKey, ResourceGuard } from 'smartgate';
import { compare, ratio, table } from './harness.mjs';
import { AUDIENCE, ISSUER, es256Fixture } from './fixtures.mjs';

const f = await es256Fixture();
const key = await DpopKey.generate();
const now = Math.floor(Date.now() / 1000);
const token = await new jose.SignJWT({ scope: 'patient/Observation.rs', patient: '123', cnf: { jkt: key.thumbprint } })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
  .setIssuer(ISSUER)
  .setAudience(AUDIENCE)
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(f.privateKey);
const url = `${AUDIENCE}/Observation?patient=123`;
const htu = `${AUDIENCE}/Observation`;
const proof = await key.proof({ method: 'GET', url, accessToken: token, now });

const always = { checkAndInsert: () => true };
const base = { jwks: f.jwks, issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'], dpop: 'required', replayCache: always };
const guards = {
  node: new ResourceGuard(base),
  webcrypto: new ResourceGuard({ ...base, crypto: 'webcrypto' }),
  builtin: new ResourceGuard({ ...base, crypto: 'builtin' }),
};
const request = { method: 'GET', url, authorization: `DPoP ${token}`, dpop: proof, now };
const ours = (g) => async () => {
  const r = await g.check(request);
  if (!r.ok) throw new Error(`refused: ${r.code}`);
};

const joseKey = await jose.importJWK(f.jwk, 'ES256');
const currentDate = new Date(now * 1000);
const b64 = (buf) => Buffer.from(buf).toString('base64url');
async function joseComposed() {
  const { payload: claims } = await jose.jwtVerify(token, joseKey, { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['ES256'], currentDate });
  const { payload: p, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'], currentDate, maxTokenAge: 60, requiredClaims: ['jti', 'htm', 'htu', 'iat'] });
  const ath = b64(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  if (p.htm !== 'GET' || p.htu !== htu || p.ath !== ath) throw new Error('proof does not match the request');
  if (claims.cnf?.jkt !== (await jose.calculateJwkThumbprint(protectedHeader.jwk))) throw new Error('not bound');
}

const candidates = [
  { name: 'ResourceGuard.check (node:crypto, default)', fn: ours(guards.node) },
  { name: 'ResourceGuard.check { crypto: "webcrypto" }', fn: ours(guards.webcrypto) },
  { name: 'jose composed checks', fn: joseComposed },
  { name: 'ResourceGuard.check { crypto: "builtin" }', fn: ours(guards.builtin), ms: 500 },
];
for (const c of candidates) await c.fn();
const rows = await compare(candidates, { rounds: Number(process.env.ROUNDS ?? 7) });
console.log(`Node ${process.version}; DPoP-bound ES256 token + ES256 proof\n`);
console.log(table(rows, 'jose composed checks'));
console.log(`\ngoal ResourceGuard.check >= 1.2x composed jose: ${ratio(rows, 'ResourceGuard.check (node', 'jose')}`);
console.log(`webcrypto path vs composed jose:                ${ratio(rows, 'ResourceGuard.check { crypto: "webcrypto"', 'jose')}`);
