// A real browser: headless Chromium (Debian's) driven by playwright-core loads a page from
// 127.0.0.1 that imports the web build, runs the README's PKCE example, and verifies
// jose-signed tokens with crypto.subtle and with the built-in provider.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { AUD, ISS, NOW, keyPair, sign } from './helpers.mjs';
import { startStaticServer } from './static-server.mjs';

const CHROMIUM = '/usr/lib/chromium/chromium';
const PAGE = `<!doctype html>
<meta charset="utf-8">
<script type="importmap">{ "imports": { "smartgate/web": "/pkg/web.js" } }</script>
<script type="module">
  import * as smartgate from 'smartgate/web';
  import { authorizeUrl } from '/examples/browser-pkce.js';
  window.smartgate = smartgate;
  window.authorizeUrl = authorizeUrl;
  window.ready = true;
</script>`;

// Served by the static server; a test may add paths.
const pages = { '/': PAGE };
let server;
let context;
let profile;
let page;

before(async () => {
  server = await startStaticServer(pages);
  profile = await mkdtemp(join(tmpdir(), 'smartgate-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20_000 }).catch((e) => {
    throw new Error(`page did not load: ${errors.map(String).join('; ') || e.message}`);
  });
});

after(async () => {
  await context?.close();
  await server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

test('the README PKCE example runs in Chromium, and its challenge is S256 of the stored verifier', async () => {
  const out = await page.evaluate(async () => {
    const url = await window.authorizeUrl({
      authorize: 'https://ehr.example.org/authorize',
      clientId: 'my-app',
      redirectUri: 'https://app.example.org/callback',
      fhirBase: 'https://ehr.example.org/fhir',
      scope: 'launch/patient openid fhirUser patient/Observation.rs',
    });
    const state = url.searchParams.get('state');
    const verifier = sessionStorage.getItem(`pkce:${state}`);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const expected = btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    return { params: Object.fromEntries(url.searchParams), verifier, expected, verified: window.smartgate.verifyPkce(verifier, expected) };
  });
  assert.equal(out.params.code_challenge_method, 'S256');
  assert.equal(out.params.code_challenge, out.expected);
  assert.match(out.verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(out.verified, true);
  assert.equal(out.params.aud, 'https://ehr.example.org/fhir');
});

test('verifyJwt in Chromium: WebCrypto and builtin, every algorithm; errors are SmartgateErrors', async () => {
  const algs = ['ES256', 'ES384', 'RS256', 'PS256'];
  const jwks = { keys: [] };
  const tokens = {};
  for (const alg of algs) {
    jwks.keys.push((await keyPair(alg)).jwk);
    tokens[alg] = await sign(alg, { scope: 'patient/*.rs' });
  }
  const expired = await sign('ES256', { exp: NOW - 1 });
  const out = await page.evaluate(
    async ({ jwks, tokens, expired, ISS, AUD, NOW }) => {
      const { JwkSet, verifyJwt, SmartgateError } = window.smartgate;
      const keys = JwkSet.parse(jwks);
      const results = {};
      for (const [alg, token] of Object.entries(tokens)) {
        for (const crypto of ['webcrypto', 'builtin']) {
          const { header, claims } = await verifyJwt(token, keys, { issuer: ISS, audience: AUD, now: NOW, crypto });
          results[`${alg}/${crypto}`] = `${header.alg} ${claims.scope}`;
        }
      }
      try {
        await verifyJwt(expired, keys, { issuer: ISS, audience: AUD, now: NOW });
      } catch (e) {
        results.error = { isSmartgate: e instanceof SmartgateError, isError: e instanceof Error, name: e.name, code: e.code };
      }
      return results;
    },
    { jwks, tokens, expired, ISS, AUD, NOW },
  );
  for (const alg of algs) {
    assert.equal(out[`${alg}/webcrypto`], `${alg} patient/*.rs`);
    assert.equal(out[`${alg}/builtin`], `${alg} patient/*.rs`);
  }
  assert.deepEqual(out.error, { isSmartgate: true, isError: true, name: 'SmartgateError', code: 'ERR_JWT_EXPIRED' });
});

test('RemoteJwkSet in Chromium fetches with the default fetch (window.fetch)', async () => {
  // window.fetch called as a method of another object throws "Illegal invocation"; the
  // default fetch must work in a browser, not only in Node.
  pages['/jwks.json'] = JSON.stringify({ keys: [(await keyPair('ES256')).jwk] });
  const token = await sign('ES256', { scope: 'patient/*.rs' });
  const out = await page.evaluate(
    async ({ token, jwksUri, ISS, AUD, NOW }) => {
      const { RemoteJwkSet, verifyJwt } = window.smartgate;
      const remote = new RemoteJwkSet(jwksUri);
      const { claims } = await verifyJwt(token, remote, { issuer: ISS, audience: AUD, now: NOW });
      let wrongAudience;
      try {
        await verifyJwt(token, remote, { issuer: ISS, audience: 'https://other.example.org', now: NOW });
      } catch (e) {
        wrongAudience = e.code;
      }
      return { scope: claims.scope, kids: remote.keySet.keys.map((k) => k.kid), wrongAudience };
    },
    { token, jwksUri: `${server.origin}/jwks.json`, ISS, AUD, NOW },
  );
  assert.equal(out.scope, 'patient/*.rs');
  assert.deepEqual(out.kids, ['ES256']);
  assert.equal(out.wrongAudience, 'ERR_JWT_AUDIENCE_MISMATCH');
});
