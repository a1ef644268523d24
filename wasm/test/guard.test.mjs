import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import { DpopKey, JwkSet, MemoryReplayCache, ResourceGuard, ScopeSet } from 'smartgate';
import { AUD, CRYPTO, ISS, NOW, b64u, keyPair, sign, throws } from './helpers.mjs';

const URL_ = 'https://ehr.example.org/fhir/Observation?patient=123';
const ALGS = 'algs="ES256 ES384 RS256 RS384 RS512 PS256 PS384"';

async function guardFor(extra = {}) {
  const jwks = { keys: [(await keyPair('ES256')).jwk, (await keyPair('RS256')).jwk] };
  return new ResourceGuard({ jwks, issuer: ISS, audience: AUD, ...extra });
}

/** A DPoP-bound access token (jose-signed) and a DpopKey whose proofs go with it. */
async function bound(claims = {}, keyOptions) {
  const key = await DpopKey.generate(keyOptions);
  const token = await sign('ES256', { scope: 'launch/patient patient/Observation.rs', patient: '123', client_id: 'app', cnf: { jkt: key.thumbprint }, ...claims }, { typ: 'at+jwt' });
  return { key, token, proof: (extra = {}) => key.proof({ method: 'GET', url: URL_, accessToken: token, now: NOW, ...extra }) };
}

test('a DPoP-bound token with its proof is authorized, on every crypto path; the proof is then spent', async () => {
  for (const crypto of CRYPTO) {
    const guard = await guardFor({ dpop: 'required', crypto });
    const { key, token, proof } = await bound();
    const p = await proof();
    const ok = await guard.check({ method: 'GET', url: URL_, authorization: `DPoP ${token}`, dpop: p, now: NOW });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.equal(ok.jkt, key.thumbprint);
    assert.equal(ok.patient, '123');
    assert.equal(ok.clientId, 'app');
    assert.equal(ok.subject, 'Patient/1');
    assert.ok(ok.scopes instanceof ScopeSet);
    assert.equal(ok.scopes.permits({ resourceType: 'Observation', interaction: 'search', context: 'patient' }), true);
    assert.equal(ok.claims.cnf.jkt, key.thumbprint);
    const again = await guard.check({ method: 'GET', url: URL_, authorization: `DPoP ${token}`, dpop: p, now: NOW });
    assert.deepEqual(
      [again.ok, again.status, again.code, again.error],
      [false, 401, 'ERR_DPOP_REPLAY', 'invalid_dpop_proof'],
    );
    assert.equal(again.wwwAuthenticate, `DPoP error="invalid_dpop_proof", error_description="DPoP proof jti was already used", ${ALGS}`);
  }
});

test('a proof made by jose for a token signed by jose (no smartgate on the client side)', async () => {
  const pair = await jose.generateKeyPair('ES256');
  const jwk = await jose.exportJWK(pair.publicKey);
  const token = await sign('ES256', { cnf: { jkt: await jose.calculateJwkThumbprint(jwk) } });
  const proof = await new jose.SignJWT({ jti: 'j1', htm: 'GET', htu: 'https://ehr.example.org/fhir/Observation', iat: NOW, ath: createHash('sha256').update(token).digest('base64url') })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .sign(pair.privateKey);
  const guard = await guardFor();
  const ok = await guard.check({ method: 'GET', url: URL_, authorization: `DPoP ${token}`, dpop: proof, now: NOW });
  assert.equal(ok.ok, true, JSON.stringify(ok));
});

test('bearer tokens in allowed and off modes; the three challenge shapes', async () => {
  const token = await sign('RS256', { scope: 'user/*.rs' });
  for (const dpop of ['allowed', 'off']) {
    const guard = await guardFor({ dpop });
    const ok = await guard.check({ method: 'GET', url: URL_, authorization: `bearer ${token}`, now: NOW });
    assert.equal(ok.ok, true);
    assert.equal(ok.jkt, undefined);
  }
  const none = { method: 'GET', url: URL_, now: NOW };
  const off = await (await guardFor({ dpop: 'off', realm: 'ehr' })).check(none);
  assert.deepEqual([off.status, off.error, off.code, off.wwwAuthenticate], [401, null, 'ERR_GUARD_NO_CREDENTIALS', 'Bearer realm="ehr"']);
  const allowed = await (await guardFor()).check(none);
  assert.equal(allowed.wwwAuthenticate, `Bearer, DPoP ${ALGS}`);
  const required = await (await guardFor({ dpop: 'required', dpopAlgorithms: ['ES256'] })).check(none);
  assert.equal(required.wwwAuthenticate, 'DPoP algs="ES256"');
});

test('a replay store that cannot record the proof: 503, no OAuth error, its own code', async () => {
  const hostile = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } });
  const stores = [
    ['throws', { checkAndInsert: () => { throw new Error('ECONNREFUSED'); } }, 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE', 'DPoP replay store did not answer; proof refused'],
    ['rejects', { checkAndInsert: () => Promise.reject(new Error('ECONNREFUSED')) }, 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE', 'DPoP replay store did not answer; proof refused'],
    ['answers a non-boolean', { checkAndInsert: async () => 'OK' }, 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE', 'DPoP replay store did not answer; proof refused'],
    ['answers undefined', { checkAndInsert: () => undefined }, 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE', 'DPoP replay store did not answer; proof refused'],
    ['throws a hostile Proxy', { checkAndInsert: () => { throw hostile; } }, 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE', 'DPoP replay store did not answer; proof refused'],
    ['is a full MemoryReplayCache', new MemoryReplayCache({ capacity: 1 }), 'ERR_DPOP_REPLAY_CACHE_FULL', 'DPoP replay cache is full; proof refused until entries expire'],
  ];
  for (const [what, replayCache, code, description] of stores) {
    const guard = await guardFor({ dpop: 'required', replayCache });
    const { token, proof } = await bound();
    if (replayCache instanceof MemoryReplayCache) {
      const first = await guard.check({ method: 'GET', url: URL_, authorization: `DPoP ${token}`, dpop: await proof(), now: NOW });
      assert.equal(first.ok, true, JSON.stringify(first));
    }
    const out = await guard.check({ method: 'GET', url: URL_, authorization: `DPoP ${token}`, dpop: await proof(), now: NOW });
    assert.deepEqual(
      [out.ok, out.status, out.error, out.code, out.errorDescription, out.wwwAuthenticate, out.dpopNonce],
      [false, 503, null, code, description, `DPoP ${ALGS}`, undefined],
      what,
    );
  }
});

describe('every guard refusal has its status, error and code', () => {
  const cases = [
    ['no credentials', {}, async () => ({}), [401, null, 'ERR_GUARD_NO_CREDENTIALS']],
    ['unknown scheme', {}, async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), [401, null, 'ERR_GUARD_SCHEME_UNSUPPORTED']],
    ['bearer when DPoP is required', { dpop: 'required' }, async () => ({ authorization: `Bearer ${await sign('ES256')}` }), [401, null, 'ERR_GUARD_SCHEME_UNSUPPORTED']],
    ['two credentials', {}, async () => ({ authorization: ['Bearer a', 'Bearer b'] }), [400, 'invalid_request', 'ERR_GUARD_MULTIPLE_CREDENTIALS']],
    ['malformed', {}, async () => ({ authorization: 'Bearer a b' }), [400, 'invalid_request', 'ERR_GUARD_AUTHORIZATION_MALFORMED']],
    ['expired token', {}, async () => ({ authorization: `Bearer ${await sign('ES256', { exp: NOW - 1 })}` }), [401, 'invalid_token', 'ERR_JWT_EXPIRED']],
    ['wrong audience', {}, async () => ({ authorization: `Bearer ${await sign('ES256', { aud: 'x' })}` }), [401, 'invalid_token', 'ERR_JWT_AUDIENCE_MISMATCH']],
    ['forged token', {}, async () => ({ authorization: `Bearer ${(await sign('ES256')).slice(0, -4)}AAAA` }), [401, 'invalid_token', 'ERR_JWS_SIGNATURE_INVALID']],
    ['DPoP scheme without a proof', {}, async () => ({ authorization: `DPoP ${(await bound()).token}` }), [401, 'invalid_dpop_proof', 'ERR_GUARD_DPOP_PROOF_MISSING']],
    ['bound token as bearer', {}, async () => ({ authorization: `Bearer ${(await bound()).token}` }), [401, 'invalid_token', 'ERR_GUARD_DPOP_TOKEN_AS_BEARER']],
    ['unbound token with DPoP', {}, async () => {
      const key = await DpopKey.generate();
      const token = await sign('ES256');
      return { authorization: `DPoP ${token}`, dpop: await key.proof({ method: 'GET', url: URL_, accessToken: token, now: NOW }) };
    }, [401, 'invalid_token', 'ERR_DPOP_TOKEN_NOT_BOUND']],
    ['proof from another key', {}, async () => {
      const { token } = await bound();
      const other = await DpopKey.generate();
      return { authorization: `DPoP ${token}`, dpop: await other.proof({ method: 'GET', url: URL_, accessToken: token, now: NOW }) };
    }, [401, 'invalid_token', 'ERR_DPOP_JKT_MISMATCH']],
    ['cnf malformed', {}, async () => ({ authorization: `Bearer ${await sign('ES256', { cnf: 'x' })}` }), [401, 'invalid_token', 'ERR_DPOP_CNF_INVALID']],
    ['cnf method unknown', {}, async () => ({ authorization: `Bearer ${await sign('ES256', { cnf: { jwk: {} } })}` }), [401, 'invalid_token', 'ERR_GUARD_CNF_UNSUPPORTED']],
    ['certificate-bound, no certificate', {}, async () => ({ authorization: `Bearer ${await sign('ES256', { cnf: { 'x5t#S256': b64u(Buffer.alloc(32, 1)) } })}` }), [401, 'invalid_token', 'ERR_GUARD_CERT_THUMBPRINT_MISSING']],
    ['certificate-bound, another certificate', {}, async () => ({
      authorization: `Bearer ${await sign('ES256', { cnf: { 'x5t#S256': b64u(Buffer.alloc(32, 1)) } })}`,
      clientCertificateThumbprint: b64u(Buffer.alloc(32, 2)),
    }), [401, 'invalid_token', 'ERR_GUARD_CERT_THUMBPRINT_MISMATCH']],
    ['proof for another URL', {}, async () => {
      const b = await bound();
      return { authorization: `DPoP ${b.token}`, dpop: await b.proof({ url: 'https://ehr.example.org/fhir/Patient' }) };
    }, [401, 'invalid_dpop_proof', 'ERR_DPOP_HTU_MISMATCH']],
    ['proof without ath', {}, async () => {
      const b = await bound();
      return { authorization: `DPoP ${b.token}`, dpop: await b.key.proof({ method: 'GET', url: URL_, now: NOW }) };
    }, [401, 'invalid_dpop_proof', 'ERR_DPOP_ATH_MISSING']],
    ['nonce required', { nonce: { secret: b64u(Buffer.alloc(32, 7)), period: 300 } }, async () => {
      const b = await bound();
      return { authorization: `DPoP ${b.token}`, dpop: await b.proof() };
    }, [401, 'use_dpop_nonce', 'ERR_DPOP_NONCE_MISSING']],
    ['request URL not absolute (DPoP checks it)', {}, async () => {
      const b = await bound();
      return { authorization: `DPoP ${b.token}`, dpop: await b.proof(), url: '/fhir/Observation' };
    }, [400, 'invalid_request', 'ERR_INVALID_ARGUMENT']],
  ];
  for (const [name, options, make, [status, error, code]] of cases) {
    test(name, async () => {
      for (const crypto of CRYPTO) {
        const guard = await guardFor({ ...options, crypto });
        const out = await guard.check({ method: 'GET', url: URL_, now: NOW, ...(await make()) });
        assert.deepEqual([out.ok, out.status, out.error, out.code], [false, status, error, code], `${name} ${crypto}: ${out.errorDescription}`);
        assert.equal(typeof out.wwwAuthenticate, 'string');
        if (error) assert.match(out.wwwAuthenticate, new RegExp(`error="${error}"`));
      }
    });
  }

  test('use_dpop_nonce hands out the nonce, and a proof with it passes', async () => {
    const guard = await guardFor({ nonce: { secret: b64u(Buffer.alloc(32, 7)), period: 300 } });
    const b = await bound();
    const first = await guard.check({ method: 'GET', url: URL_, now: NOW, authorization: `DPoP ${b.token}`, dpop: await b.proof() });
    assert.match(first.dpopNonce, /^[A-Za-z0-9_-]{43}$/);
    assert.match(first.wwwAuthenticate, /error_description="Resource server requires nonce in DPoP proof"/);
    const ok = await guard.check({ method: 'GET', url: URL_, now: NOW, authorization: `DPoP ${b.token}`, dpop: await b.proof({ nonce: first.dpopNonce }) });
    assert.equal(ok.ok, true);
  });

  test('insufficient_scope', async () => {
    const guard = await guardFor();
    const b = await bound();
    const ok = await guard.check({ method: 'GET', url: URL_, now: NOW, authorization: `DPoP ${b.token}`, dpop: await b.proof() });
    const denied = guard.insufficientScope(ok, 'patient/Observation.c');
    assert.deepEqual([denied.status, denied.error, denied.code], [403, 'insufficient_scope', 'ERR_GUARD_INSUFFICIENT_SCOPE']);
    assert.match(denied.wwwAuthenticate, /^Bearer, DPoP error="insufficient_scope", .*scope="patient\/Observation.c"/);
  });
});

test('constructor and request arguments', async () => {
  const jwks = JwkSet.parse({ keys: [(await keyPair('ES256')).jwk] });
  for (const bad of [
    undefined,
    { jwks },
    { jwks, issuer: ISS },
    { jwks: 5, issuer: ISS, audience: AUD },
    { jwks, issuer: ISS, audience: AUD, dpop: 'sometimes' },
    { jwks, issuer: ISS, audience: AUD, crypto: 'native' },
    { jwks, issuer: ISS, audience: AUD, nonce: { secret: 'short', period: 1 } },
    { jwks, issuer: ISS, audience: AUD, nonce: { secret: b64u(Buffer.alloc(32)), period: 0 } },
    { jwks, issuer: ISS, audience: AUD, replayCache: {} },
    { jwks, issuer: ISS, audience: AUD, clockTolerance: NaN },
    { jwks, issuer: ISS, audience: AUD, leeway: 5 },
  ]) {
    throws(() => new ResourceGuard(bad), 'ERR_INVALID_ARGUMENT', JSON.stringify(bad));
  }
  const guard = new ResourceGuard({ jwks, issuer: ISS, audience: AUD });
  for (const bad of [undefined, 'GET', { url: URL_ }, { method: 'GET' }, { method: 'GET', url: URL_, authorization: 5 }, { method: 'GET', url: URL_, now: 1.5 }, { method: 'GET', url: URL_, cookie: 'x' }]) {
    await assert.rejects(() => guard.check(bad), (e) => e.code === 'ERR_INVALID_ARGUMENT', JSON.stringify(bad));
  }
  throws(() => guard.insufficientScope({ ok: false }), 'ERR_INVALID_ARGUMENT');
});
