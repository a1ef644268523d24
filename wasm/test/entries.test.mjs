// The package's entries, resolved through its "exports" map: require and import share one
// instance with no init call; the web entry refuses to work before init, then takes a
// compiled WebAssembly.Module (as Cloudflare Workers hand one over).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import * as esm from 'smartgate';
import { AUD, ISS, NOW, keyPair, sign } from './helpers.mjs';

const require = createRequire(import.meta.url);
const names = readFileSync(new URL('../js/exports.txt', import.meta.url), 'utf8').trim().split('\n');

test('require and import give the same instance, with every export', () => {
  const cjs = require('smartgate');
  assert.deepEqual(Object.keys(cjs).sort(), [...names].sort());
  for (const name of names) assert.equal(esm[name], cjs[name], name);
  const pkg = require('smartgate/package.json');
  assert.equal(pkg.name, 'smartgate');
  assert.equal(pkg.sideEffects, false);
  for (const file of pkg.files) readFileSync(new URL(`../pkg/${file}`, import.meta.url));
});

test('the web entry: ERR_NOT_INITIALIZED before init, then the same API', async () => {
  const web = await import('smartgate/web');
  assert.deepEqual(
    Object.keys(web).filter((k) => !['default', 'init', 'initSync'].includes(k)).sort(),
    [...names].sort(),
  );
  assert.throws(() => web.createPkcePair(), (e) => e instanceof web.SmartgateError && e.code === 'ERR_NOT_INITIALIZED');
  await assert.rejects(() => web.verifyJwt('x', null, {}), (e) => e.code === 'ERR_NOT_INITIALIZED');
  const module = new WebAssembly.Module(readFileSync(new URL('../pkg/smartgate_bg.wasm', import.meta.url)));
  await web.default(module);
  await web.init(); // already loaded: resolves at once, fetches nothing
  web.initSync(module);
  const { jwk } = await keyPair('ES256');
  const { claims } = await web.verifyJwt(await sign('ES256'), web.JwkSet.parse({ keys: [jwk] }), { issuer: ISS, audience: AUD, now: NOW });
  assert.equal(claims.iss, ISS);
  // The web and Node entries are separate instances with separate classes.
  assert.notEqual(web.JwkSet, esm.JwkSet);
  const token = await sign('ES256');
  await assert.rejects(
    () => web.verifyJwt(token, esm.JwkSet.parse({ keys: [jwk] }), { issuer: ISS, audience: AUD, now: NOW }),
    (e) => e.code === 'ERR_INVALID_ARGUMENT',
  );
});
