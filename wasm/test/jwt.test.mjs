import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import { JwkSet, SmartgateError, supportedAlgorithms, verifyJwt } from 'smartgate';
import { ALGS, AUD, CRYPTO, ISS, NOW, b64u, keyPair, rejects, sign, signRaw } from './helpers.mjs';

const opts = (extra = {}) => ({ issuer: ISS, audience: AUD, now: NOW, ...extra });

async function allKeys() {
  const keys = [];
  for (const alg of ALGS) keys.push((await keyPair(alg)).jwk);
  return JwkSet.parse({ keys });
}

test('every algorithm this build has: jose-signed tokens verify, on every crypto path', async () => {
  assert.deepEqual(supportedAlgorithms(), ALGS);
  const keys = await allKeys();
  for (const alg of ALGS) {
    const token = await sign(alg, { scope: 'patient/*.rs', n: [1, { a: 'é' }] }, { typ: 'at+jwt' });
    for (const crypto of CRYPTO) {
      const { header, claims } = await verifyJwt(token, keys, opts({ crypto, typ: 'at+jwt' }));
      assert.deepEqual(header, { alg, kid: alg, typ: 'at+jwt' }, `${alg} ${crypto}`);
      assert.equal(claims.iss, ISS);
      assert.deepEqual(claims.n, [1, { a: 'é' }]);
    }
  }
});

test('a signature from another key fails on every path, with one opaque code', async () => {
  const keys = await allKeys();
  for (const alg of ALGS) {
    const other = await jose.generateKeyPair(alg, { modulusLength: 2048 });
    const token = await new jose.SignJWT({ iss: ISS, aud: AUD, exp: NOW + 9 })
      .setProtectedHeader({ alg, kid: alg })
      .sign(other.privateKey);
    for (const crypto of CRYPTO) {
      await rejects(() => verifyJwt(token, keys, opts({ crypto })), 'ERR_JWS_SIGNATURE_INVALID', `${alg} ${crypto}`);
    }
  }
});

test('CVE-2022-21449: r = s = 0 is refused by the core before any host crypto', async () => {
  const keys = await allKeys();
  const token = await sign('ES256');
  const [h, p] = token.split('.');
  const zero = `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`;
  for (const crypto of CRYPTO) await rejects(() => verifyJwt(zero, keys, opts({ crypto })), 'ERR_JWS_SIGNATURE_MALFORMED');
  // r = n (the group order) is out of range too.
  const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
  const rn = `${h}.${p}.${Buffer.concat([n, Buffer.alloc(31), Buffer.from([1])]).toString('base64url')}`;
  for (const crypto of CRYPTO) await rejects(() => verifyJwt(rn, keys, opts({ crypto })), 'ERR_JWS_SIGNATURE_MALFORMED');
  // A DER signature (what a careless host would accept) is the wrong shape.
  const der = `${h}.${p}.${Buffer.alloc(70, 1).toString('base64url')}`;
  await rejects(() => verifyJwt(der, keys, opts()), 'ERR_JWS_SIGNATURE_MALFORMED');
});

describe('claims', () => {
  const cases = [
    ['expired', { exp: NOW - 1 }, {}, 'ERR_JWT_EXPIRED'],
    ['exp == now is expired', { exp: NOW }, {}, 'ERR_JWT_EXPIRED'],
    ['not yet valid', { nbf: NOW + 10 }, {}, 'ERR_JWT_NOT_YET_VALID'],
    ['issued in the future', { iat: NOW + 10 }, {}, 'ERR_JWT_IAT_FUTURE'],
    ['too old', { iat: NOW - 100 }, { maxTokenAge: 60 }, 'ERR_JWT_TOO_OLD'],
    ['wrong issuer', { iss: 'https://evil.example' }, {}, 'ERR_JWT_ISSUER_MISMATCH'],
    ['wrong audience', { aud: ['x', 'y'] }, {}, 'ERR_JWT_AUDIENCE_MISMATCH'],
    ['no exp', { exp: undefined }, {}, 'ERR_JWT_CLAIM_MISSING'],
    ['no iss', { iss: undefined }, {}, 'ERR_JWT_CLAIM_MISSING'],
    ['no aud', { aud: undefined }, {}, 'ERR_JWT_CLAIM_MISSING'],
    ['required claim', {}, { requiredClaims: ['patient'] }, 'ERR_JWT_CLAIM_MISSING'],
    ['exp as a string', { exp: String(NOW + 10) }, {}, 'ERR_JWT_CLAIM_INVALID'],
    ['aud of numbers', { aud: [1] }, {}, 'ERR_JWT_CLAIM_INVALID'],
  ];
  for (const [name, claims, extra, code] of cases) {
    test(name, async () => {
      const keys = await allKeys();
      const token = await sign('ES256', claims);
      for (const crypto of CRYPTO) await rejects(() => verifyJwt(token, keys, opts({ ...extra, crypto })), code, crypto);
    });
  }

  test('leeway, arrays of issuers and audiences, max age within bounds', async () => {
    const keys = await allKeys();
    const token = await sign('ES256', { exp: NOW - 5, nbf: NOW + 5, iat: NOW - 70, aud: ['a', AUD] });
    const { claims } = await verifyJwt(token, keys, opts({ clockTolerance: 10, maxTokenAge: 60, issuer: ['x', ISS] }));
    assert.equal(claims.exp, NOW - 5);
  });

  test('the payload is not a JSON object', async () => {
    const keys = await allKeys();
    await rejects(async () => verifyJwt(await signRaw('ES256', {}, '[1,2]'), keys, opts()), 'ERR_JWT_MALFORMED');
    await rejects(async () => verifyJwt(await signRaw('ES256', {}, 'not json'), keys, opts()), 'ERR_JWT_MALFORMED');
  });

  test('claims are only looked at after the signature verified', async () => {
    const keys = await allKeys();
    const expired = await sign('ES256', { exp: NOW - 100, iss: 'evil' });
    const forged = `${expired.split('.').slice(0, 2).join('.')}.${(await sign('ES256')).split('.')[2]}`;
    await rejects(() => verifyJwt(forged, keys, opts()), 'ERR_JWS_SIGNATURE_INVALID');
  });

  test('the clock is used when now is not given', async () => {
    const keys = await allKeys();
    const now = Math.floor(Date.now() / 1000);
    const token = await sign('ES256', { iat: now, exp: now + 60 });
    await verifyJwt(token, keys, { issuer: ISS, audience: AUD });
    const old = await sign('ES256', { iat: 1_600_000_000, exp: 1_600_000_300 });
    await rejects(() => verifyJwt(old, keys, { issuer: ISS, audience: AUD }), 'ERR_JWT_EXPIRED');
  });
});

describe('header and key selection', () => {
  test('alg none, HMAC, unknown, not allowed', async () => {
    const keys = await allKeys();
    const body = b64u({ iss: ISS, aud: AUD, exp: NOW + 9 });
    await rejects(() => verifyJwt(`${b64u({ alg: 'none' })}.${body}.`, keys, opts()), 'ERR_JWS_ALG_NONE');
    const hs = await new jose.SignJWT({ iss: ISS }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32));
    await rejects(() => verifyJwt(hs, keys, opts()), 'ERR_JWS_ALG_SYMMETRIC');
    await rejects(() => verifyJwt(`${b64u({ alg: 'ES512' })}.${body}.AA`, keys, opts()), 'ERR_JWS_ALG_UNSUPPORTED');
    await rejects(async () => verifyJwt(await sign('RS256'), keys, opts({ algorithms: ['ES256'] })), 'ERR_JWS_ALG_NOT_ALLOWED');
  });

  test('crit, header types, typ', async () => {
    const keys = await allKeys();
    const body = b64u({ iss: ISS, aud: AUD, exp: NOW + 9 });
    await rejects(() => verifyJwt(`${b64u({ alg: 'ES256', crit: ['exp'] })}.${body}.AA`, keys, opts()), 'ERR_JWS_CRIT_UNSUPPORTED');
    await rejects(() => verifyJwt(`${b64u({ alg: 'ES256', kid: 1 })}.${body}.AA`, keys, opts()), 'ERR_JWS_HEADER_INVALID');
    await rejects(() => verifyJwt(`${b64u('[]')}.${body}.AA`, keys, opts()), 'ERR_JWS_HEADER_INVALID');
    await rejects(async () => verifyJwt(await sign('ES256', {}, { typ: 'JWT' }), keys, opts({ typ: 'at+jwt' })), 'ERR_JWT_TYP_MISMATCH');
    await verifyJwt(await sign('ES256', {}, { typ: 'application/AT+JWT' }), keys, opts({ typ: 'at+jwt' }));
  });

  test('malformed compact serializations', async () => {
    const keys = await allKeys();
    const good = await sign('ES256');
    for (const bad of ['', 'a', 'a.b', 'a.b.c.d', good + '=', good.replace('.', '.+'), ' ' + good, `${good}.`]) {
      await rejects(() => verifyJwt(bad, keys, opts()), 'ERR_JWS_MALFORMED', JSON.stringify(bad.slice(0, 20)));
    }
    await rejects(() => verifyJwt('a'.repeat(16 * 1024 + 1), keys, opts()), 'ERR_INPUT_TOO_LARGE');
    await rejects(() => verifyJwt(`${'a'.repeat(4097)}.b.c`, keys, opts()), 'ERR_INPUT_TOO_LARGE');
  });

  test('kid selects the key; unknown kid, and a kid whose key does not fit alg', async () => {
    const keys = await allKeys();
    await rejects(async () => verifyJwt(await sign('ES256', {}, { kid: 'nope' }), keys, opts()), 'ERR_JWS_KEY_NOT_FOUND');
    await rejects(async () => verifyJwt(await sign('ES256', {}, { kid: 'RS256' }), keys, opts()), 'ERR_JWS_KEY_ALG_MISMATCH');
    // Without kid, every key that fits the algorithm is tried, in order.
    const es = (await keyPair('ES256')).jwk;
    const decoy = { ...(await jose.exportJWK((await jose.generateKeyPair('ES256')).publicKey)) };
    const two = JwkSet.parse({ keys: [decoy, { ...es, kid: undefined }] });
    const token = await signRaw('ES256', { kid: undefined }, { iss: ISS, aud: AUD, exp: NOW + 9 });
    for (const crypto of CRYPTO) await verifyJwt(token, two, opts({ crypto }));
    const noFit = JwkSet.parse({ keys: [(await keyPair('RS256')).jwk] });
    await rejects(() => verifyJwt(token, noFit, opts()), 'ERR_JWS_KEY_NOT_FOUND');
  });

  test('jku, x5u and jwk headers are ignored, never fetched', async () => {
    const keys = await allKeys();
    const attacker = await jose.generateKeyPair('ES256');
    const attackerJwk = await jose.exportJWK(attacker.publicKey);
    let fetched = false;
    const realFetch = globalThis.fetch;
    globalThis.fetch = async () => {
      fetched = true;
      throw new Error('no fetch expected');
    };
    try {
      const token = await new jose.SignJWT({ iss: ISS, aud: AUD, exp: NOW + 9 })
        .setProtectedHeader({ alg: 'ES256', jku: 'https://evil.example/jwks', x5u: 'https://evil.example/x5', jwk: attackerJwk })
        .sign(attacker.privateKey);
      for (const crypto of CRYPTO) await rejects(() => verifyJwt(token, keys, opts({ crypto })), 'ERR_JWS_SIGNATURE_INVALID');
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(fetched, false);
  });
});

describe('options', () => {
  test('issuer and audience are required', async () => {
    const keys = await allKeys();
    const token = await sign('ES256');
    await rejects(() => verifyJwt(token, keys), 'ERR_INVALID_ARGUMENT');
    await rejects(() => verifyJwt(token, keys, { issuer: ISS }), 'ERR_INVALID_ARGUMENT');
    await rejects(() => verifyJwt(token, keys, { audience: AUD }), 'ERR_INVALID_ARGUMENT');
    await rejects(() => verifyJwt(token, keys, { issuer: [], audience: AUD }), 'ERR_INVALID_ARGUMENT');
  });

  test('wrong types, unknown options and non-finite numbers are errors, not defaults', async () => {
    const keys = await allKeys();
    const token = await sign('ES256', { iat: NOW - 1000 });
    for (const extra of [
      { maxTokenAge: NaN },
      { maxTokenAge: Infinity },
      { clockTolerance: -Infinity },
      { clockTolerance: -1 },
      { clockTolerance: 1.5 },
      { clockTolerance: '5s' },
      { maxTokenAge: '5m' },
      { maxTokenAge: 10n },
      { algorithms: 'ES256' },
      { algorithms: [] },
      { algorithms: ['none'] },
      { algorithms: ['HS256'] },
      { typ: 5 },
      { requiredClaims: 'sub' },
      { crypto: 'native' },
      { now: 1.5 },
      { now: NaN },
      { now: '1800000000' },
      { maxTokenAgee: 60 },
      { issuer: 5 },
      { audience: [AUD, 5] },
    ]) {
      await rejects(() => verifyJwt(token, keys, opts(extra)), 'ERR_INVALID_ARGUMENT', JSON.stringify(extra, (k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    }
    for (const bad of ['string', 5, [ISS], () => {}]) await rejects(() => verifyJwt(token, keys, bad), 'ERR_INVALID_ARGUMENT');
    const cyclic = opts();
    cyclic.self = cyclic;
    await rejects(() => verifyJwt(token, keys, cyclic), 'ERR_INVALID_ARGUMENT');
  });

  test('null and undefined members mean absent; equal options objects share one parse', async () => {
    const keys = await allKeys();
    const token = await sign('ES256');
    await verifyJwt(token, keys, opts({ maxTokenAge: undefined, typ: null, crypto: undefined }));
    for (let i = 0; i < 3; i++) await verifyJwt(token, keys, opts());
  });

  test('a NaN hidden where null is allowed is still refused after null was cached', async () => {
    const keys = await allKeys();
    const token = await sign('ES256', { iat: NOW - 1000 });
    await verifyJwt(token, keys, opts({ maxTokenAge: null }));
    await rejects(() => verifyJwt(token, keys, opts({ maxTokenAge: NaN })), 'ERR_INVALID_ARGUMENT');
  });

  test('wrong token and key types', async () => {
    const keys = await allKeys();
    for (const bad of [undefined, null, 5, {}, [], Buffer.from('x')]) {
      await rejects(() => verifyJwt(bad, keys, opts()), 'ERR_INVALID_ARGUMENT');
    }
    const token = await sign('ES256');
    for (const bad of [undefined, null, {}, { keys: [] }, 'jwks', (await keyPair('ES256')).publicKey]) {
      await rejects(() => verifyJwt(token, bad, opts()), 'ERR_INVALID_ARGUMENT');
    }
  });

  test('verifyJwt always returns a promise, even for bad arguments', () => {
    const p = verifyJwt(5, null, null);
    assert.ok(p instanceof Promise);
    return p.then(
      () => assert.fail('resolved'),
      (e) => assert.ok(e instanceof SmartgateError),
    );
  });
});

test('keys imported into the host are cached per key set and do not leak across sets', async () => {
  const a = (await keyPair('ES256')).jwk;
  const other = await jose.generateKeyPair('ES256');
  const b = { ...(await jose.exportJWK(other.publicKey)), kid: 'ES256' };
  const setA = JwkSet.parse({ keys: [a] });
  const setB = JwkSet.parse({ keys: [b] });
  const token = await sign('ES256');
  for (const crypto of CRYPTO) {
    await verifyJwt(token, setA, opts({ crypto }));
    await rejects(() => verifyJwt(token, setB, opts({ crypto })), 'ERR_JWS_SIGNATURE_INVALID');
    await verifyJwt(token, setA, opts({ crypto }));
  }
});
