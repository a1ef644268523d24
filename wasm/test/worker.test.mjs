// A real edge runtime: workerd (Cloudflare Workers), through miniflare, importing the web
// build with its compiled module.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
