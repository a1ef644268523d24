// A real edge runtime: workerd (Cloudflare Workers), through miniflare, importing the web
// build with its compiled module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DpopKey } from 'smartgate';
import { AUD, ISS, NOW, keyPair, sign } from './helpers.mjs';
import { startWorker } from './workerd.mjs';

const VERIFY_WORKER = `
import init, { JwkSet, verifyJwt, SmartgateError } from 'smartgate/web';
import wasm from 'smartgate/smartgate_bg.wasm';
let keys;
export default {
  async fetch(request, env) {
    await init(wasm);
    keys ??= JwkSet.parse(env.JWKS);
    const { token, crypto } = await request.json();
    try {
      const { claims } = await verifyJwt(token, keys, { issuer: env.ISS, audience: env.AUD, now: Number(env.NOW), crypto });
      return Response.json({ ok: true, sub: claims.sub });
    } catch (e) {
      return Response.json({ ok: false, smartgate: e instanceof SmartgateError, code: e.code }, { status: 401 });
    }
  },
};`;

let worker;
before(async () => {
  const jwks = { keys: [(await keyPair('ES256')).jwk, (await keyPair('RS256')).jwk] };
  worker = await startWorker(VERIFY_WORKER, { JWKS: JSON.stringify(jwks), ISS, AUD, NOW: String(NOW) });
});
after(() => worker?.dispose());

const post = (body) => fetch(worker.url, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => [r.status, await r.json()]);

test('verifyJwt in workerd with WebCrypto and with the built-in provider', async () => {
  for (const alg of ['ES256', 'RS256']) {
    const token = await sign(alg);
    for (const crypto of [undefined, 'webcrypto', 'builtin']) {
      assert.deepEqual(await post({ token, crypto }), [200, { ok: true, sub: 'Patient/1' }], `${alg} ${crypto}`);
    }
  }
  assert.deepEqual(await post({ token: await sign('ES256', { exp: NOW - 1 }) }), [401, { ok: false, smartgate: true, code: 'ERR_JWT_EXPIRED' }]);
  assert.deepEqual(await post({ token: 5 }), [401, { ok: false, smartgate: true, code: 'ERR_INVALID_ARGUMENT' }]);
});

test('the README edge worker: a DPoP-bound token gets 200, a bad one 401 with the right WWW-Authenticate', async () => {
  const source = readFileSync(new URL('../examples/edge-worker.js', import.meta.url), 'utf8');
  const edge = await startWorker(source, { JWKS: JSON.stringify({ keys: [(await keyPair('ES256')).jwk] }), ISSUER: ISS, FHIR_BASE: AUD });
  try {
    const url = `${edge.url.href}fhir/Observation?patient=123`;
    const key = await DpopKey.generate();
    const now = Math.floor(Date.now() / 1000);
    const token = await sign('ES256', { iat: now, exp: now + 300, patient: '123', scope: 'patient/Observation.rs', cnf: { jkt: key.thumbprint } });
    const call = async (headers) => {
      const r = await fetch(url, { headers });
      return [r.status, r.headers.get('www-authenticate'), await r.text()];
    };
    const proof = await key.proof({ method: 'GET', url, accessToken: token });
    const [status, , body] = await call({ authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(status, 200, body);
    assert.deepEqual(JSON.parse(body), { patient: '123', scopes: 'patient/Observation.rs' });
    // The same proof again: a replay.
    const [replayStatus, replayChallenge] = await call({ authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(replayStatus, 401);
    assert.match(replayChallenge, /^DPoP error="invalid_dpop_proof", error_description="DPoP proof jti was already used", algs="/);
    // A bearer token where DPoP is required; no credentials; a forged signature.
    assert.deepEqual((await call({ authorization: `Bearer ${token}` })).slice(0, 2), [401, 'DPoP algs="ES256 ES384 RS256 RS384 RS512 PS256 PS384"']);
    assert.deepEqual((await call({})).slice(0, 2), [401, 'DPoP algs="ES256 ES384 RS256 RS384 RS512 PS256 PS384"']);
    const forged = `${token.slice(0, -6)}AAAAAA`;
    const [forgedStatus, forgedChallenge] = await call({ authorization: `DPoP ${forged}`, dpop: await key.proof({ method: 'GET', url, accessToken: forged }) });
    assert.equal(forgedStatus, 401);
    assert.match(forgedChallenge, /^DPoP error="invalid_token", error_description="JWS signature is invalid"/);
  } finally {
    await edge.dispose();
  }
});
