// The mock EHR's HTML pages in a real browser: headless Chromium (driven by
// playwright-core) signs in, picks a patient, unticks one scope on the consent page and
// approves; the app's redirect lands on a tiny capturing server, the code is exchanged,
// and the granted scope must lack the unticked one.
//
// Needs the mock-ehr binary (`cargo build -p mock-ehr --bin mock-ehr`): $MOCK_EHR_BIN,
// else $CARGO_TARGET_DIR/debug/mock-ehr, else target/debug/mock-ehr. Chromium:
// $CHROMIUM, else Debian's /usr/lib/chromium/chromium. Everything binds 127.0.0.1 and
// stops at the end of the test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function mockEhrBinary() {
  const candidates = [
    process.env.MOCK_EHR_BIN,
    process.env.CARGO_TARGET_DIR && join(resolve(root, process.env.CARGO_TARGET_DIR), 'debug', 'mock-ehr'),
    join(root, 'target', 'debug', 'mock-ehr'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  assert.ok(found, `no mock-ehr binary (tried ${candidates.join(', ')}); run cargo build -p mock-ehr --bin mock-ehr`);
  return found;
}

function chromiumBinary() {
  const candidates = [process.env.CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  assert.ok(found, `no Chromium (tried ${candidates.join(', ')}); apt-get install -y chromium`);
  return found;
}

/** Starts the mock EHR on 127.0.0.1:0 and resolves with its base URL (first stdout line). */
function startMockEhr(t) {
  const child = spawn(mockEhrBinary(), ['--host', '127.0.0.1', '--port', '0', '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGTERM'));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolvePromise(line.trim()));
    child.once('exit', (code) => reject(new Error(`mock-ehr exited (${code}) before printing its URL: ${stderr}`)));
  });
}

/** A server on 127.0.0.1:0 that records the first request to /callback. */
async function startRedirectCatcher(t) {
  let deliver;
  const received = new Promise((r) => { deliver = r; });
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/callback') {
      deliver(Object.fromEntries(url.searchParams));
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>done</title><p>done</p>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return { redirectUri: `http://127.0.0.1:${server.address().port}/callback`, received };
}

const base64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

test('login, patient choice, an unticked scope and approval in headless Chromium', { timeout: 90_000 }, async (t) => {
  const base = await startMockEhr(t);
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  const smart = await (await fetch(`${base}/fhir/.well-known/smart-configuration`)).json();
  const { redirectUri, received } = await startRedirectCatcher(t);

  // The app registers itself (RFC 7591) as a public client.
  const requested = ['openid', 'fhirUser', 'launch/patient', 'patient/*.rs', 'offline_access'];
  const registration = await fetch(smart.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Browser Test App',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      scope: requested.join(' '),
    }),
  });
  assert.equal(registration.status, 201);
  const { client_id: clientId } = await registration.json();

  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const state = base64url(randomBytes(16));
  const authorize = new URL(smart.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: requested.join(' '),
    state,
    aud: `${base}/fhir`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) authorize.searchParams.set(k, v);

  const profile = mkdtempSync(join(tmpdir(), 'smartgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumBinary(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // One hook, in order: Chromium writes into its profile until it has closed.
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  const page = context.pages()[0] ?? await context.newPage();

  // Login.
  await page.goto(authorize.href);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(await page.textContent('body'), /Browser Test App/);
  await page.getByLabel('Username').fill('dr.smith');
  await page.getByLabel('Password').fill('password');
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Patient picker (standalone launch/patient).
  await page.getByRole('heading', { name: 'Choose a patient' }).waitFor();
  await page.getByLabel('Patient/pat-007').check();
  await page.getByRole('button', { name: 'Continue' }).click();

  // Consent: every granted scope is listed, ticked; untick offline_access.
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  assert.match(await page.textContent('body'), /Patient\/pat-007/);
  for (const scope of requested) {
    assert.equal(await page.locator(`input[type=checkbox][value="${scope}"]`).isChecked(), true, scope);
  }
  await page.locator('input[type=checkbox][value="offline_access"]').uncheck();
  await page.getByRole('button', { name: 'Allow' }).click();

  // The redirect reaches the app with the code, the state and the issuer (RFC 9207).
  const callback = await received;
  assert.equal(callback.state, state);
  assert.equal(callback.iss, base);
  assert.ok(callback.code, JSON.stringify(callback));
  await page.waitForURL((url) => url.href.startsWith(redirectUri));

  // The app exchanges the code; the granted scope lacks the unticked one.
  const tokenResponse = await fetch(smart.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: clientId,
    }),
  });
  const tokens = await tokenResponse.json();
  assert.equal(tokenResponse.status, 200, JSON.stringify(tokens));
  const granted = tokens.scope.split(' ');
  assert.ok(!granted.includes('offline_access'), tokens.scope);
  assert.deepEqual(granted, requested.filter((s) => s !== 'offline_access'));
  assert.equal(tokens.refresh_token, undefined, 'no refresh token without offline_access');
  assert.equal(tokens.patient, 'pat-007');
  assert.equal(tokens.token_type, 'Bearer');
  assert.ok(tokens.id_token);
});
