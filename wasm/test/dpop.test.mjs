import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import { DpopKey, MemoryReplayCache, SmartgateError, jwkThumbprint, verifyDpopProof } from 'smartgate';
import { CRYPTO, NOW, b64u, rejects, throws } from './helpers.mjs';

const URL_ = 'https://ehr.example.org/fhir/Observation';
const fresh = () => new MemoryReplayCache();

/** A proof signed by jose (independent of our DpopKey). */
async function joseProof({ alg = 'ES256', claims = {}, header = {}, key } = {}) {
  const pair = key ?? (await jose.generateKeyPair(alg, { modulusLength: 2048 }));
  const jwk = await jose.exportJWK(pair.publicKey);
  const token = await new jose.SignJWT({ jti: crypto.randomUUID(), htm: 'GET', htu: URL_, iat: NOW, ...claims })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk, ...header })
    .sign(pair.privateKey);
  return { token, jwk, pair };
}

test('jose-made proofs verify, on every algorithm and crypto path', async () => {
  for (const alg of ['ES256', 'ES384', 'RS256', 'PS256']) {
    for (const crypto of CRYPTO) {
      const { token, jwk } = await joseProof({ alg, claims: { ath: createHash('sha256').update('tok').digest('base64url') } });
      const out = await verifyDpopProof(token, { method: 'GET', url: `${URL_}?code=1#x`, accessToken: 'tok', now: NOW, crypto, replayCache: fresh() });
      assert.equal(out.jkt, await jose.calculateJwkThumbprint(jwk));
      assert.equal(out.alg, alg);
      assert.equal(out.iat, NOW);
    }
  }
});

test('DpopKey proofs verify with jose, and with verifyDpopProof (WebCrypto and builtin keys)', async () => {
  for (const crypto of ['webcrypto', 'builtin']) {
    const key = await DpopKey.generate({ crypto });
    assert.equal(key.thumbprint, await jose.calculateJwkThumbprint(key.publicJwk));
    assert.equal(key.thumbprint, jwkThumbprint(key.publicJwk));
    const now = Math.floor(Date.now() / 1000);
    const proof = await key.proof({ method: 'POST', url: `${URL_}?x=1`, accessToken: 'tok', nonce: 'n-1' });
    const { payload, protectedHeader } = await jose.jwtVerify(proof, await jose.importJWK(key.publicJwk, 'ES256'), { typ: 'dpop+jwt' });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.deepEqual(protectedHeader.jwk, key.publicJwk);
    assert.equal(payload.htm, 'POST');
    assert.equal(payload.htu, URL_);
    assert.equal(payload.ath, createHash('sha256').update('tok').digest('base64url'));
    assert.equal(payload.nonce, 'n-1');
    assert.ok(Math.abs(payload.iat - now) <= 2);
    assert.match(payload.jti, /^[A-Za-z0-9_-]{22}$/);
    const out = await verifyDpopProof(proof, { method: 'POST', url: URL_, accessToken: 'tok', nonce: 'n-1', replayCache: fresh() });
    assert.equal(out.jkt, key.thumbprint);
    assert.equal(out.nonce, 'n-1');
  }
});

test('a WebCrypto DpopKey is non-extractable; fromJwk checks the key', async () => {
  const key = await DpopKey.generate();
  assert.deepEqual(Object.keys(key.publicJwk).sort(), ['crv', 'kty', 'x', 'y']);
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const priv = await jose.exportJWK(privateKey);
  for (const crypto of ['webcrypto', 'builtin']) {
    const imported = await DpopKey.fromJwk(priv, { crypto });
    assert.equal(imported.thumbprint, await jose.calculateJwkThumbprint(await jose.exportJWK(publicKey)));
    await jose.jwtVerify(await imported.proof({ method: 'GET', url: URL_, now: NOW }), publicKey, { currentDate: new Date(NOW * 1000) });
    const other = await jose.exportJWK((await jose.generateKeyPair('ES256')).publicKey);
    await rejects(() => DpopKey.fromJwk({ ...priv, x: other.x, y: other.y }, { crypto }), 'ERR_INVALID_ARGUMENT');
    await rejects(() => DpopKey.fromJwk({ ...priv, d: undefined }, { crypto }), 'ERR_INVALID_ARGUMENT');
  }
  await rejects(() => DpopKey.generate({ crypto: 'native' }), 'ERR_INVALID_ARGUMENT');
  await rejects(() => DpopKey.generate({ extractable: true }), 'ERR_INVALID_ARGUMENT');
  await rejects(() => key.proof({ method: 'G ET', url: URL_ }), 'ERR_INVALID_ARGUMENT');
  await rejects(() => key.proof({ method: 'GET', url: '/relative' }), 'ERR_INVALID_ARGUMENT');
  await rejects(() => key.proof('GET'), 'ERR_INVALID_ARGUMENT');
  assert.throws(() => new DpopKey(), TypeError);
});

test('replay: a jti is accepted once per key, then refused; stores that fail refuse', async () => {
  const key = await DpopKey.generate();
  const cache = fresh();
  const proof = await key.proof({ method: 'GET', url: URL_, now: NOW });
  const check = { method: 'GET', url: URL_, now: NOW, replayCache: cache };
  await verifyDpopProof(proof, check);
  await rejects(() => verifyDpopProof(proof, check), 'ERR_DPOP_REPLAY');
  assert.equal(cache.size, 1);
  // The contract: key and expiry as the core computes them, now passed along.
  const calls = [];
  const spy = { checkAndInsert: async (k, exp, now) => (calls.push([k, exp, now]), true) };
  const other = await key.proof({ method: 'GET', url: URL_, now: NOW });
  await verifyDpopProof(other, { method: 'GET', url: URL_, now: NOW + 3, replayCache: spy });
  assert.equal(calls.length, 1);
  assert.match(calls[0][0], /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(calls[0].slice(1), [NOW + 60, NOW + 3]);
  // A store that cannot answer (a non-boolean, a rejection, a throw, even a hostile
  // throw) is not "full": its own code, fail closed.
  const hostile = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } });
  const stores = [
    ['non-boolean', { checkAndInsert: () => 'yes' }],
    ['resolves to a non-boolean', { checkAndInsert: async () => 1 }],
    ['rejects', { checkAndInsert: () => Promise.reject(new Error('down')) }],
    ['throws', { checkAndInsert: () => { throw new Error('x'); } }],
    ['throws a Proxy', { checkAndInsert: () => { throw hostile; } }],
  ];
  for (const [what, bad] of stores) {
    await rejects(async () => verifyDpopProof(await key.proof({ method: 'GET', url: URL_, now: NOW }), { method: 'GET', url: URL_, now: NOW, replayCache: bad }), 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE', what);
  }
  // A custom store may say "full" the way MemoryReplayCache does.
  const full = { checkAndInsert: () => { throw new SmartgateError('ERR_DPOP_REPLAY_CACHE_FULL', 'no room'); } };
  await rejects(async () => verifyDpopProof(await key.proof({ method: 'GET', url: URL_, now: NOW }), { method: 'GET', url: URL_, now: NOW, replayCache: full }), 'ERR_DPOP_REPLAY_CACHE_FULL');
  const tiny = new MemoryReplayCache({ capacity: 1 });
  await verifyDpopProof(await key.proof({ method: 'GET', url: URL_, now: NOW }), { method: 'GET', url: URL_, now: NOW, replayCache: tiny });
  await rejects(async () => verifyDpopProof(await key.proof({ method: 'GET', url: URL_, now: NOW }), { method: 'GET', url: URL_, now: NOW, replayCache: tiny }), 'ERR_DPOP_REPLAY_CACHE_FULL');
  // Expired entries make room.
  await verifyDpopProof(await key.proof({ method: 'GET', url: URL_, now: NOW + 100 }), { method: 'GET', url: URL_, now: NOW + 100, replayCache: tiny });
  for (const bad of [{}, { checkAndInsert: 1 }, 'redis']) {
    await rejects(() => verifyDpopProof(proof, { method: 'GET', url: URL_, replayCache: bad }), 'ERR_INVALID_ARGUMENT');
  }
  throws(() => new MemoryReplayCache({ capacity: 0 }), 'ERR_INVALID_ARGUMENT');
});

describe('every DPoP refusal has its code', () => {
  const cases = [
    ['two proofs joined', async () => `${(await joseProof()).token},${(await joseProof()).token}`, {}, 'ERR_DPOP_MALFORMED'],
    ['payload not an object', async () => {
      const pair = await jose.generateKeyPair('ES256');
      const jwk = await jose.exportJWK(pair.publicKey);
      return new jose.CompactSign(new TextEncoder().encode('[1]')).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(pair.privateKey);
    }, {}, 'ERR_DPOP_MALFORMED'],
    ['typ', async () => (await joseProof({ header: { typ: 'JWT' } })).token, {}, 'ERR_DPOP_TYP_MISMATCH'],
    ['no jwk', async () => (await joseProof({ header: { jwk: undefined } })).token, {}, 'ERR_DPOP_JWK_MISSING'],
    ['private jwk', async () => {
      const pair = await jose.generateKeyPair('ES256', { extractable: true });
      return (await joseProof({ key: pair, header: { jwk: await jose.exportJWK(pair.privateKey) } })).token;
    }, {}, 'ERR_JWK_PRIVATE_KEY'],
    ['alg not allowed', async () => (await joseProof({ alg: 'RS256' })).token, { algorithms: ['ES256'] }, 'ERR_JWS_ALG_NOT_ALLOWED'],
    ['no jti', async () => (await joseProof({ claims: { jti: undefined } })).token, {}, 'ERR_DPOP_CLAIM_MISSING'],
    ['jti too long', async () => (await joseProof({ claims: { jti: 'x'.repeat(257) } })).token, {}, 'ERR_DPOP_CLAIM_INVALID'],
    ['htm', async () => (await joseProof({ claims: { htm: 'get' } })).token, {}, 'ERR_DPOP_HTM_MISMATCH'],
    ['htu invalid', async () => (await joseProof({ claims: { htu: 'not a url' } })).token, {}, 'ERR_DPOP_HTU_INVALID'],
    ['htu mismatch', async () => (await joseProof({ claims: { htu: 'https://ehr.example.org/fhir/Patient' } })).token, {}, 'ERR_DPOP_HTU_MISMATCH'],
    ['iat future', async () => (await joseProof({ claims: { iat: NOW + 60 } })).token, {}, 'ERR_DPOP_IAT_FUTURE'],
    ['iat stale', async () => (await joseProof({ claims: { iat: NOW - 61 } })).token, {}, 'ERR_DPOP_IAT_STALE'],
    ['ath missing', async () => (await joseProof()).token, { accessToken: 'tok' }, 'ERR_DPOP_ATH_MISSING'],
    ['ath mismatch', async () => (await joseProof({ claims: { ath: 'x' } })).token, { accessToken: 'tok' }, 'ERR_DPOP_ATH_MISMATCH'],
    ['nonce missing', async () => (await joseProof()).token, { nonce: 'n' }, 'ERR_DPOP_NONCE_MISSING'],
    ['nonce invalid', async () => (await joseProof({ claims: { nonce: 'old' } })).token, { nonce: 'n' }, 'ERR_DPOP_NONCE_INVALID'],
    ['signature', async () => {
      const a = await joseProof();
      const b = await joseProof();
      return `${a.token.split('.').slice(0, 2).join('.')}.${b.token.split('.')[2]}`;
    }, {}, 'ERR_JWS_SIGNATURE_INVALID'],
    ['r = s = 0', async () => `${(await joseProof()).token.split('.').slice(0, 2).join('.')}.${b64u(Buffer.alloc(64))}`, {}, 'ERR_JWS_SIGNATURE_MALFORMED'],
    ['request url', async () => (await joseProof()).token, { url: '/relative' }, 'ERR_INVALID_ARGUMENT'],
    ['check types', async () => (await joseProof()).token, { maxAge: '60' }, 'ERR_INVALID_ARGUMENT'],
    ['unknown member', async () => (await joseProof()).token, { htm: 'GET' }, 'ERR_INVALID_ARGUMENT'],
  ];
  for (const [name, make, extra, code] of cases) {
    test(name, async () => {
      const proof = await make();
      for (const crypto of CRYPTO) {
        await rejects(() => verifyDpopProof(proof, { method: 'GET', url: URL_, now: NOW, replayCache: fresh(), crypto, ...extra }), code, `${name} ${crypto}`);
      }
    });
  }
  test('wrong argument types', async () => {
    for (const bad of [undefined, null, 5, {}]) await rejects(() => verifyDpopProof(bad, { method: 'GET', url: URL_ }), 'ERR_INVALID_ARGUMENT');
    for (const bad of [undefined, null, 'GET', []]) await rejects(() => verifyDpopProof('a.b.c', bad), 'ERR_INVALID_ARGUMENT');
  });
});
