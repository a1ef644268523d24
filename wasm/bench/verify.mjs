// `node wasm/bench/verify.mjs`: one ES256 access token, one key, interleaved rounds in one
// process. Compares smartgate's verifyJwt (each crypto choice) with jose.jwtVerify on a
// pre-imported key, @noble/curves p256.verify (pure JS), and node:crypto's verify of the
// same signature (the floor: no parsing, no claims).
import crypto from 'node:crypto';
import * as jose from 'jose';
import { p256 } from '@noble/curves/nist.js';
import { JwkSet, verifyJwt } from 'smartgate';
import { compare, ratio, table } from './harness.mjs';
import { AUDIENCE, ISSUER, es256Fixture } from './fixtures.mjs';

const f = await es256Fixture();
const keys = JwkSet.parse(f.jwks);
const joseKey = await jose.importJWK(f.jwk, 'ES256');
const opts = { issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] };
const optsWeb = { ...opts, crypto: 'webcrypto' };
const optsBuiltin = { ...opts, crypto: 'builtin' };
const joseOpts = { issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] };

const [h, p, s] = f.token.split('.');
const data = Buffer.from(`${h}.${p}`);
const sig = Buffer.from(s, 'base64url');
const keyObject = crypto.createPublicKey({ key: f.jwk, format: 'jwk' });
const nodeOpts = { key: keyObject, dsaEncoding: 'ieee-p1363' };
const point = Buffer.concat([Buffer.from([4]), Buffer.from(f.jwk.x, 'base64url'), Buffer.from(f.jwk.y, 'base64url')]);

const must = (ok) => {
  if (!ok) throw new Error('verification failed in the benchmark');
};
const candidates = [
  { name: 'smartgate verifyJwt (node:crypto, default)', fn: () => verifyJwt(f.token, keys, opts) },
  { name: 'smartgate verifyJwt { crypto: "webcrypto" }', fn: () => verifyJwt(f.token, keys, optsWeb) },
  { name: 'jose.jwtVerify (pre-imported key)', fn: () => jose.jwtVerify(f.token, joseKey, joseOpts) },
  { name: 'smartgate verifyJwt { crypto: "builtin" }', fn: () => verifyJwt(f.token, keys, optsBuiltin), ms: 400 },
  { name: '@noble/curves p256.verify (signature only)', fn: () => must(p256.verify(sig, data, point, { lowS: false })), ms: 400 },
  { name: 'node:crypto verify (signature only, floor)', fn: () => must(crypto.verify('sha256', data, nodeOpts, sig)) },
];

// Every candidate must accept the token before anything is timed.
for (const c of candidates) await c.fn();

const rows = await compare(candidates, { rounds: Number(process.env.ROUNDS ?? 7) });
console.log(`Node ${process.version}, ${process.arch}; one ES256 token of ${f.token.length} bytes\n`);
console.log(table(rows, 'jose.jwtVerify (pre-imported key)'));
const floor = rows.find((r) => r.name.startsWith('node:crypto'));
const ours = rows.find((r) => r.name.startsWith('smartgate verifyJwt (node'));
console.log(`\ngoal verifyJwt >= 1.2x jose:          ${ratio(rows, 'smartgate verifyJwt (node', 'jose')}`);
console.log(`goal builtin >= 3x @noble/curves:     ${ratio(rows, 'smartgate verifyJwt { crypto: "builtin"', '@noble')}`);
console.log(`webcrypto path vs jose:               ${ratio(rows, 'smartgate verifyJwt { crypto: "webcrypto"', 'jose')}`);
console.log(`default path over the floor:          wall ${(ours.usPerOp - floor.usPerOp).toFixed(1)} us, cpu ${(ours.cpuUsPerOp - floor.cpuUsPerOp).toFixed(1)} us`);
