// Garbage into every export: the answer is a result or a SmartgateError, never a TypeError
// from the glue, never a RuntimeError (a trap: a panic in Rust), and the module keeps
// working afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as sg from 'smartgate';
import { AUD, ISS, NOW, keyPair, sign } from './helpers.mjs';

const { SmartgateError, JwkSet, ScopeSet, RemoteJwkSet, ResourceGuard, DpopKey, MemoryReplayCache } = sg;

const throwing = new Proxy(
  {},
  {
    get() {
      throw new Error('getter boom');
    },
    ownKeys() {
      throw new Error('ownKeys boom');
    },
  },
);
const cyclic = {};
cyclic.self = cyclic;

const GARBAGE = [
  undefined,
  null,
  0,
  -1,
  NaN,
  Infinity,
  2 ** 53,
  true,
  '',
  ' ',
  '\u0000',
  '\ud800', // a lone surrogate
  '💥'.repeat(1000),
  'x'.repeat(300_000),
  'x'.repeat((1 << 20) + 1),
  '{"keys":[',
  '{"issuer":1}',
  'a.b.c',
  '..',
  [],
  [[]],
  {},
  { keys: [null, 1, 'x', {}] },
  { toJSON: () => undefined },
  cyclic,
  throwing,
  Symbol('s'),
  10n,
  () => {},
  new Uint8Array(8),
  new Date(0),
  Object.create(null),
];

/** Calls fn; a result or a SmartgateError is fine, anything else fails the test. */
async function survive(label, fn) {
  let out;
  try {
    out = fn();
    if (out instanceof Promise) out = await out;
  } catch (e) {
    if (e instanceof SmartgateError && typeof e.code === 'string' && e.code.startsWith('ERR_')) return e.code;
    assert.fail(`${label}: threw ${e?.constructor?.name}: ${e?.message}`);
  }
  return out;
}

const label = (v) => {
  try {
    return typeof v === 'string' ? JSON.stringify(v.slice(0, 12)) : typeof v === 'symbol' || typeof v === 'bigint' ? String(v) : JSON.stringify(v)?.slice(0, 30) ?? typeof v;
  } catch {
    return typeof v;
  }
};

test('every export survives garbage in every argument', async () => {
  const { jwk } = await keyPair('ES256');
  const keys = JwkSet.parse({ keys: [jwk] });
  const scopes = ScopeSet.parse('patient/*.rs');
  const okOpts = { issuer: ISS, audience: AUD, now: NOW };
  const guard = new ResourceGuard({ jwks: keys, issuer: ISS, audience: AUD });
  const dpopKey = await DpopKey.generate();
  const url = 'https://ehr.example.org/fhir/Patient';
  const proof = await dpopKey.proof({ method: 'GET', url, now: NOW });
  const cache = new MemoryReplayCache();
  const calls = [
    ['createPkcePair', (g) => sg.createPkcePair(g)],
    ['pkceChallenge', (g) => sg.pkceChallenge(g)],
    ['verifyPkce(g, x)', (g) => sg.verifyPkce(g, 'x')],
    ['verifyPkce(v, g)', (g) => sg.verifyPkce('a'.repeat(43), g)],
    ['verifyPkce(v, c, g)', (g) => sg.verifyPkce('a'.repeat(43), 'x', g)],
    ['JwkSet.parse', (g) => JwkSet.parse(g)],
    ['jwkThumbprint', (g) => sg.jwkThumbprint(g)],
    ['verifyJwt(g)', (g) => sg.verifyJwt(g, keys, okOpts)],
    ['verifyJwt(t, g)', async (g) => sg.verifyJwt(await sign('ES256'), g, okOpts)],
    ['verifyJwt(t, k, g)', async (g) => sg.verifyJwt(await sign('ES256'), keys, g)],
    ['verifyJwt(t, k, {issuer: g})', async (g) => sg.verifyJwt(await sign('ES256'), keys, { ...okOpts, issuer: g })],
    ['verifyJwt(t, k, {now: g})', async (g) => sg.verifyJwt(await sign('ES256'), keys, { ...okOpts, now: g })],
    ['verifyJwt(t, k, {algorithms: g})', async (g) => sg.verifyJwt(await sign('ES256'), keys, { ...okOpts, algorithms: g })],
    ['new RemoteJwkSet(g)', (g) => new RemoteJwkSet(g)],
    ['new RemoteJwkSet(u, g)', (g) => new RemoteJwkSet('https://ehr.example/jwks', g)],
    ['ScopeSet.parse', (g) => ScopeSet.parse(g)],
    ['ScopeSet.parseLenient', (g) => ScopeSet.parseLenient(g)],
    ['permits', (g) => scopes.permits(g)],
    ['authorize', (g) => scopes.authorize(g)],
    ['permits({params: g})', (g) => scopes.permits({ resourceType: 'Observation', interaction: 'search', params: g })],
    ['permits({resourceType: g})', (g) => scopes.permits({ resourceType: g, interaction: 'read' })],
    ['supportedAlgorithms', (g) => sg.supportedAlgorithms(g)],
    ['verifyDpopProof(g)', (g) => sg.verifyDpopProof(g, { method: 'GET', url, now: NOW })],
    ['verifyDpopProof(p, g)', (g) => sg.verifyDpopProof(proof, g)],
    ['verifyDpopProof(p, {url: g})', (g) => sg.verifyDpopProof(proof, { method: 'GET', url: g, now: NOW })],
    ['verifyDpopProof(p, {replayCache: g})', (g) => sg.verifyDpopProof(proof, { method: 'GET', url, now: NOW, replayCache: g })],
    ['new ResourceGuard(g)', (g) => new ResourceGuard(g)],
    ['new ResourceGuard({jwks: g})', (g) => new ResourceGuard({ jwks: g, issuer: ISS, audience: AUD })],
    ['guard.check(g)', (g) => guard.check(g)],
    ['guard.check({authorization: g})', (g) => guard.check({ method: 'GET', url, authorization: g, now: NOW })],
    ['guard.check({dpop: g})', (g) => guard.check({ method: 'GET', url, authorization: 'DPoP a.b.c', dpop: g, now: NOW })],
    ['guard.check({method: g})', (g) => guard.check({ method: g, url, authorization: 'Bearer x' })],
    ['guard.insufficientScope(g)', (g) => guard.insufficientScope(g)],
    ['DpopKey.generate(g)', (g) => DpopKey.generate(g)],
    ['DpopKey.fromJwk(g)', (g) => DpopKey.fromJwk(g)],
    ['key.proof(g)', (g) => dpopKey.proof(g)],
    ['key.proof({url: g})', (g) => dpopKey.proof({ method: 'GET', url: g })],
    ['new MemoryReplayCache(g)', (g) => new MemoryReplayCache(g)],
    ['cache.checkAndInsert(g)', (g) => cache.checkAndInsert(g, NOW, NOW)],
    ['cache.checkAndInsert(k, g)', (g) => cache.checkAndInsert('k', g, NOW)],
  ];
  for (const [name, call] of calls) {
    for (const g of GARBAGE) await survive(`${name} with ${label(g)}`, () => call(g));
  }
  // Still working.
  assert.equal((await sg.verifyJwt(await sign('ES256'), keys, okOpts)).claims.iss, ISS);
  assert.equal(sg.pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});

test('mutated tokens: every byte flip and truncation is a SmartgateError', async () => {
  const { jwk } = await keyPair('ES256');
  const keys = JwkSet.parse({ keys: [jwk] });
  const token = await sign('ES256', { scope: 'patient/*.rs' }, { typ: 'at+jwt' });
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ é';
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 1500; i++) {
    let t = token;
    const op = rand(3);
    const at = rand(t.length);
    if (op === 0) t = t.slice(0, at) + alphabet[rand(alphabet.length)] + t.slice(at + 1);
    else if (op === 1) t = t.slice(0, at);
    else t = t.slice(0, at) + alphabet[rand(alphabet.length)] + t.slice(at);
    if (t === token) continue;
    const crypto = ['builtin', undefined, 'webcrypto'][i % 3];
    const code = await survive(`mutation ${i}`, () => sg.verifyJwt(t, keys, { issuer: ISS, audience: AUD, now: NOW, crypto }));
    assert.equal(typeof code, 'string', `mutation ${i} verified: ${t}`);
  }
});

test('random JSON into the parsers', async () => {
  let seed = 11;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const atoms = [null, true, 0, -1.5, 1e308, '', 'EC', 'P-256', 'RSA', 'AQAB', 'sig', [], {}];
  const keys = ['kty', 'crv', 'x', 'y', 'n', 'e', 'use', 'alg', 'kid', 'key_ops', 'keys', 'd'];
  const value = (depth) => {
    if (depth > 3 || rand(3) === 0) return atoms[rand(atoms.length)];
    if (rand(2) === 0) return Array.from({ length: rand(4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: rand(5) }, () => [keys[rand(keys.length)], value(depth + 1)]));
  };
  for (let i = 0; i < 1500; i++) {
    const v = value(0);
    await survive(`JwkSet.parse ${i}`, () => JwkSet.parse(v));
    await survive(`JwkSet.parse keys ${i}`, () => JwkSet.parse({ keys: [v] }));
    await survive(`jwkThumbprint ${i}`, () => sg.jwkThumbprint(v));
  }
});
