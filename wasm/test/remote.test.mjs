// RemoteJwkSet against a real HTTP server on 127.0.0.1 (port 0), with the time given
// through verifyJwt's `now` so the refresh policy is exercised without waiting.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import * as jose from 'jose';
import { RemoteJwkSet, verifyJwt } from 'smartgate';
import { AUD, ISS, NOW, keyPair, rejects, sign } from './helpers.mjs';

let server;
let base;
const state = { requests: [], handler: null };

before(async () => {
  server = createServer((req, res) => {
    state.requests.push(req.url);
    state.handler(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function serve(jwks, headers = { 'cache-control': 'max-age=300' }, status = 200) {
  state.requests = [];
  state.handler = (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof jwks === 'string' ? jwks : JSON.stringify(jwks));
  };
}

const opts = (now, extra = {}) => ({ issuer: ISS, audience: AUD, now, ...extra });

test('fetches on first use, caches for max-age, refetches after', async () => {
  const { jwk } = await keyPair('ES256');
  serve({ keys: [jwk] });
  const remote = new RemoteJwkSet(`${base}/jwks`);
  assert.equal(remote.keySet, null);
  const token = await sign('ES256', { exp: NOW + 100_000 });
  await verifyJwt(token, remote, opts(NOW));
  await verifyJwt(token, remote, opts(NOW + 299));
  assert.deepEqual(state.requests, ['/jwks']);
  await verifyJwt(token, remote, opts(NOW + 300));
  assert.deepEqual(state.requests, ['/jwks', '/jwks']);
  assert.equal(remote.keySet.keys[0].kid, 'ES256');
  assert.equal(remote.url, `${base}/jwks`);
});

test('concurrent first uses share one fetch', async () => {
  const { jwk } = await keyPair('ES256');
  serve({ keys: [jwk] });
  const remote = new RemoteJwkSet(`${base}/jwks`);
  const token = await sign('ES256', { exp: NOW + 100_000 });
  await Promise.all(Array.from({ length: 10 }, () => verifyJwt(token, remote, opts(NOW))));
  assert.equal(state.requests.length, 1);
});

test('an unknown kid refetches once per cooldown (key rotation works, forged kids do not hammer)', async () => {
  const old = (await keyPair('ES256')).jwk;
  serve({ keys: [old] });
  const remote = new RemoteJwkSet(`${base}/jwks`, { cooldown: 30 });
  await verifyJwt(await sign('ES256'), remote, opts(NOW));
  // The issuer rotates: a new key with a new kid.
  const fresh = await jose.generateKeyPair('ES256');
  const freshJwk = { ...(await jose.exportJWK(fresh.publicKey)), kid: 'rotated' };
  serve({ keys: [old, freshJwk] });
  const rotated = await new jose.SignJWT({ iss: ISS, aud: AUD, exp: NOW + 300 })
    .setProtectedHeader({ alg: 'ES256', kid: 'rotated' })
    .sign(fresh.privateKey);
  // Within the cooldown of the first fetch: no refetch, the kid stays unknown.
  await rejects(() => verifyJwt(rotated, remote, opts(NOW + 10)), 'ERR_JWS_KEY_NOT_FOUND');
  assert.equal(state.requests.length, 0);
  await verifyJwt(rotated, remote, opts(NOW + 31));
  assert.equal(state.requests.length, 1);
  // A forged kid: one refetch per cooldown at most.
  const forged = await sign('ES256', {}, { kid: 'forged' });
  for (let i = 0; i < 5; i++) await rejects(() => verifyJwt(forged, remote, opts(NOW + 62)), 'ERR_JWS_KEY_NOT_FOUND');
  assert.equal(state.requests.length, 2);
});

test('Cache-Control max-age is clamped to [minAge, maxAge]; no-store counts as minAge', async () => {
  const { jwk } = await keyPair('ES256');
  const token = await sign('ES256', { exp: NOW + 100_000 });
  serve({ keys: [jwk] }, { 'cache-control': 'max-age=1' });
  const remote = new RemoteJwkSet(`${base}/jwks`, { minAge: 100, maxAge: 1000 });
  await verifyJwt(token, remote, opts(NOW));
  await verifyJwt(token, remote, opts(NOW + 99));
  assert.equal(state.requests.length, 1);
  serve({ keys: [jwk] }, { 'cache-control': 'max-age=999999' });
  await verifyJwt(token, remote, opts(NOW + 100));
  await verifyJwt(token, remote, opts(NOW + 1099));
  assert.equal(state.requests.length, 1);
  await verifyJwt(token, remote, opts(NOW + 1100));
  assert.equal(state.requests.length, 2);
});

test('failures: status, body, network, timeout, redirect; stale keys bridge an outage', async () => {
  const { jwk } = await keyPair('ES256');
  const token = await sign('ES256', { exp: NOW + 100_000 });
  serve({ keys: [jwk] }, {}, 500);
  let remote = new RemoteJwkSet(`${base}/jwks`);
  await rejects(() => verifyJwt(token, remote, opts(NOW)), 'ERR_JWKS_FETCH_FAILED');
  // Within the cooldown a failed fetch is not retried.
  await rejects(() => verifyJwt(token, remote, opts(NOW + 1)), 'ERR_JWKS_FETCH_FAILED');
  assert.equal(state.requests.length, 1);

  serve('<html>', {});
  remote = new RemoteJwkSet(`${base}/jwks`);
  await rejects(() => verifyJwt(token, remote, opts(NOW)), 'ERR_JWKS_MALFORMED');

  serve({ keys: [{ ...jwk, d: 'AAAA' }] }, {});
  remote = new RemoteJwkSet(`${base}/jwks`);
  await rejects(() => verifyJwt(token, remote, opts(NOW)), 'ERR_JWK_PRIVATE_KEY');

  serve('', { location: 'https://evil.example/jwks' }, 302);
  remote = new RemoteJwkSet(`${base}/jwks`);
  await rejects(() => verifyJwt(token, remote, opts(NOW)), 'ERR_JWKS_FETCH_FAILED');

  state.requests = [];
  state.handler = () => {}; // never answers
  remote = new RemoteJwkSet(`${base}/slow`, { timeout: 100 });
  const started = Date.now();
  await rejects(() => verifyJwt(token, remote, opts(NOW)), 'ERR_JWKS_FETCH_FAILED');
  assert.ok(Date.now() - started < 3000);

  // Keys fetched, then the issuer goes down: the old keys serve past max-age, bounded.
  serve({ keys: [jwk] }, { 'cache-control': 'max-age=60' });
  remote = new RemoteJwkSet(`${base}/jwks`, { minAge: 60, maxAge: 600, cooldown: 30 });
  await verifyJwt(token, remote, opts(NOW));
  serve('down', {}, 503);
  await verifyJwt(token, remote, opts(NOW + 61));
  await verifyJwt(token, remote, opts(NOW + 200));
  await rejects(() => verifyJwt(token, remote, opts(NOW + 60 + 600 + 1)), 'ERR_JWKS_FETCH_FAILED');
  await rejects(() => remote.refresh(NOW + 2000), 'ERR_JWKS_FETCH_FAILED');
});

test('a jku in the token is never fetched; a custom fetch is used', async () => {
  const { jwk } = await keyPair('ES256');
  serve({ keys: [jwk] });
  const seen = [];
  const remote = new RemoteJwkSet(new URL(`${base}/jwks`), {
    fetch: (url, init) => {
      seen.push(url);
      return fetch(url, init);
    },
  });
  const attacker = await jose.generateKeyPair('ES256');
  const evil = await new jose.SignJWT({ iss: ISS, aud: AUD, exp: NOW + 9 })
    .setProtectedHeader({ alg: 'ES256', kid: 'ES256', jku: `${base}/evil`, x5u: `${base}/evil-x5u` })
    .sign(attacker.privateKey);
  await rejects(() => verifyJwt(evil, remote, opts(NOW)), 'ERR_JWS_SIGNATURE_INVALID');
  assert.deepEqual(state.requests, ['/jwks']);
  assert.deepEqual(seen, [`${base}/jwks`]);
  const refreshed = await remote.refresh(NOW + 1);
  assert.equal(refreshed, remote.keySet);
});

test('constructor arguments', () => {
  for (const url of ['http://ehr.example/jwks', 'ftp://x', '', 'https://', 'http://localhost.evil.example/']) {
    assert.throws(() => new RemoteJwkSet(url), (e) => e.code === 'ERR_INVALID_ARGUMENT', url);
  }
  for (const bad of [undefined, 5, {}]) assert.throws(() => new RemoteJwkSet(bad), (e) => e.code === 'ERR_INVALID_ARGUMENT');
  for (const options of [{ minAge: 10, maxAge: 5 }, { ttl: 5 }, { timeout: 0 }, { fetch: 'no' }, { cooldown: -1 }, 'x']) {
    assert.throws(() => new RemoteJwkSet('https://ehr.example/jwks', options), (e) => e.code === 'ERR_INVALID_ARGUMENT', JSON.stringify(options));
  }
  new RemoteJwkSet('https://ehr.example/jwks', { defaultAge: 10, minAge: 1, maxAge: 20, cooldown: 0, timeout: 50, fetch });
});
