// The mock EHR's web console (/_console/) in headless Chromium: register an example
// app in the client registry, find a patient in the patient browser, create an EHR
// launch in the launcher and follow its "Launch the app" button through the app's
// launch page (which redirects to /authorize with PKCE) to the app's callback, then see
// that launch's audit entries in the audit viewer, filtered by the app's client.
//
// With UPDATE_SCREENSHOTS=1 the test writes a screenshot of each console page to
// docs/console-*.png (the README shows them); otherwise it still takes them, in memory.
//
// Needs the mock-ehr binary (`cargo build -p mock-ehr --bin mock-ehr`): $MOCK_EHR_BIN,
// else $CARGO_TARGET_DIR/debug/mock-ehr, else target/debug/mock-ehr. Chromium:
// $CHROMIUM, else Debian's /usr/lib/chromium/chromium. Everything binds 127.0.0.1 and
// stops at the end of the test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLIENT_ID = 'console-example-app';
const SCOPE = 'launch openid fhirUser patient/*.rs';

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

/** Starts the mock EHR (auto-approve) on 127.0.0.1:0; resolves with its base URL. */
function startMockEhr(t) {
  const child = spawn(mockEhrBinary(), ['--host', '127.0.0.1', '--port', '0', '--auto-approve', '--log-format', 'json'], {
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

const base64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A tiny SMART app on 127.0.0.1:0. /launch (the EHR launch URL) reads the server's
 * SMART configuration from `iss` and redirects to its authorization endpoint with PKCE
 * S256, `state`, `aud` and `launch`; /callback checks `state` and `iss`, exchanges the
 * code and shows what it got.
 */
async function startApp(t) {
  const pending = new Map();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const html = (status, body) => res.writeHead(status, { 'content-type': 'text/html' })
      .end(`<!doctype html><title>Example app</title>${body}`);
    try {
      if (url.pathname === '/launch') {
        const iss = url.searchParams.get('iss');
        const smart = await (await fetch(`${iss}/.well-known/smart-configuration`)).json();
        const verifier = base64url(randomBytes(32));
        const state = base64url(randomBytes(16));
        pending.set(state, { verifier, smart, iss });
        const authorize = new URL(smart.authorization_endpoint);
        for (const [k, v] of Object.entries({
          response_type: 'code',
          client_id: CLIENT_ID,
          redirect_uri: `${appBase}/callback`,
          scope: SCOPE,
          state,
          aud: iss,
          launch: url.searchParams.get('launch'),
          code_challenge: base64url(createHash('sha256').update(verifier).digest()),
          code_challenge_method: 'S256',
        })) authorize.searchParams.set(k, v);
        res.writeHead(302, { location: authorize.href }).end();
      } else if (url.pathname === '/callback') {
        const flow = pending.get(url.searchParams.get('state'));
        if (!flow) return html(400, '<h1>Unknown state</h1>');
        pending.delete(url.searchParams.get('state'));
        const code = url.searchParams.get('code');
        if (!code) return html(400, `<h1>No code</h1><p id="error">${escapeHtml(url.searchParams.get('error'))}</p>`);
        const response = await fetch(flow.smart.token_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: `${appBase}/callback`,
            code_verifier: flow.verifier,
            client_id: CLIENT_ID,
          }),
        });
        const tokens = await response.json();
        html(200, `<h1>App callback</h1><p>Code received: <code id="code">${escapeHtml(code)}</code></p>
          <p>iss: <code id="iss">${escapeHtml(url.searchParams.get('iss'))}</code></p>
          <p>Token status <code id="status">${response.status}</code>, patient <code id="patient">${escapeHtml(tokens.patient)}</code>,
          encounter <code id="encounter">${escapeHtml(tokens.encounter)}</code>, scope <code id="scope">${escapeHtml(tokens.scope)}</code></p>`);
      } else {
        res.writeHead(404).end();
      }
    } catch (e) {
      html(500, `<h1>App error</h1><pre>${escapeHtml(e.stack)}</pre>`);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const appBase = `http://127.0.0.1:${server.address().port}`;
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  return appBase;
}

/** A screenshot of the page: into docs/ with UPDATE_SCREENSHOTS=1, else in memory. */
async function screenshot(page, name) {
  const image = await page.screenshot({ fullPage: true });
  assert.ok(image.length > 10_000, `${name}: a real image`);
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    writeFileSync(join(root, 'docs', `console-${name}.png`), image);
  }
}

test('the web console: register an app, find a patient, launch the app, read the audit trail', { timeout: 120_000 }, async (t) => {
  const base = await startMockEhr(t);
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  const app = await startApp(t);

  const profile = mkdtempSync(join(tmpdir(), 'smartgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumBinary(),
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  const page = context.pages()[0] ?? await context.newPage();

  // 1. The client registry: register the example app.
  await page.goto(`${base}/_console/`);
  await page.getByRole('link', { name: 'Clients', exact: true }).click();
  await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
  // A redirect URI that is not a URL is explained next to its field.
  await page.getByLabel('client_id (empty: generated)').fill(CLIENT_ID);
  await page.getByLabel('Redirect URIs, one per line').fill('callback-without-scheme');
  await page.getByRole('button', { name: 'Register' }).click();
  assert.match(await page.locator('#redirect_uris-error').textContent(),
    /"callback-without-scheme" is not an absolute http\(s\) URL without a fragment \(invalid_redirect_uri\)/);
  await page.getByLabel('Name', { exact: true }).fill('Console Example App');
  await page.getByLabel('Authentication').selectOption('none');
  await page.getByLabel('Redirect URIs, one per line').fill(`${app}/callback`);
  await page.getByLabel('Launch URIs, one per line').fill(`${app}/launch`);
  await page.getByLabel('Scopes (empty: the demo app\'s)').fill(SCOPE);
  await page.getByRole('button', { name: 'Register' }).click();
  assert.match(await page.locator('#registered').textContent(),
    new RegExp(`Registered client ${CLIENT_ID} with scopes ${SCOPE.replace(/[*./]/g, '\\$&')}\\.`));
  assert.match(await page.locator('#clients').textContent(), new RegExp(`${app}/launch`));
  await screenshot(page, 'clients');

  // 2. The patient browser: search by name, open the patient.
  await page.getByRole('link', { name: 'Patients', exact: true }).click();
  await page.getByLabel('Name or id contains').fill('okonkwo');
  await page.getByRole('button', { name: 'Search' }).click();
  assert.match(await page.locator('#patient-count').textContent(), /^1 of 24 patients match/);
  await screenshot(page, 'patients');
  await page.getByRole('link', { name: 'Dmitri Okonkwo' }).click();
  await page.getByRole('heading', { name: 'Dmitri Okonkwo', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Observation (7)' }).waitFor();
  await screenshot(page, 'patient');
  // Its FHIR JSON, read from the store by the console.
  const json = await (await page.request.get(`${base}/_console/fhir/Patient/pat-003`)).json();
  assert.equal(json.resourceType, 'Patient');
  assert.equal(json.id, 'pat-003');

  // 3. The launcher, opened for this patient: an EHR launch as dr.jones.
  await page.getByRole('link', { name: 'Launch an app for this patient' }).click();
  await page.getByRole('heading', { name: 'Launcher', level: 1 }).waitFor();
  assert.equal(await page.locator('select[name=patient]').inputValue(), 'pat-003');
  await page.locator('input[name=launch_type][value=provider]').check();
  await page.locator('select[name=user]').selectOption('dr.jones');
  await page.getByLabel('Encounter (optional)').fill('enc-003-1');
  // A malformed launch URL first: refused, explained, nothing created.
  await page.getByLabel('App launch URL').fill('not-a-url');
  await page.getByRole('button', { name: 'Create the launch' }).click();
  assert.match(await page.locator('#launch_url-error').textContent(), /^malformed URL: "not-a-url" is not an absolute/);
  await page.getByLabel('App launch URL').fill(`${app}/launch`);
  await page.getByRole('button', { name: 'Create the launch' }).click();
  const launchUrl = new URL(await page.locator('#launch-url').textContent());
  assert.equal(launchUrl.origin + launchUrl.pathname, `${app}/launch`);
  assert.equal(launchUrl.searchParams.get('iss'), `${base}/fhir`);
  const launchId = launchUrl.searchParams.get('launch');
  assert.ok(launchId);
  assert.match(await page.locator('#launch-curl').textContent(),
    /curl -s -X POST '.*\/_admin\/launch' -H 'content-type: application\/json' \\\n {2}-d '\{"encounter":"enc-003-1","patient":"pat-003","user":"dr.jones"\}'/);
  await screenshot(page, 'launcher');

  // The button opens the app, which goes through /authorize to its callback.
  await page.getByRole('link', { name: 'Launch the app' }).click();
  await page.waitForURL((url) => url.href.startsWith(`${app}/callback`));
  await page.getByRole('heading', { name: 'App callback' }).waitFor();
  assert.ok((await page.locator('#code').textContent()).length > 20);
  assert.equal(await page.locator('#iss').textContent(), base);
  assert.equal(await page.locator('#status').textContent(), '200');
  assert.equal(await page.locator('#patient').textContent(), 'pat-003');
  assert.equal(await page.locator('#encounter').textContent(), 'enc-003-1');
  assert.equal(await page.locator('#scope').textContent(), SCOPE);

  // 4. The audit viewer, filtered by the app's client: its authorization and token.
  await page.goto(`${base}/_console/audit`);
  await page.locator('input[name=client]').fill(CLIENT_ID);
  await page.getByRole('button', { name: 'Filter' }).click();
  const rows = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  const events = rows.map((cells) => cells[2]);
  assert.deepEqual(events.slice(0, 2), ['token', 'authorize'], JSON.stringify(rows));
  for (const cells of rows) {
    assert.equal(cells[3], CLIENT_ID);
    assert.equal(cells[6], 'success');
    assert.match(cells[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  assert.ok(rows.some((cells) => cells[2] === 'authorize' && cells[5] === 'pat-003' && cells[4] === 'dr.jones'), JSON.stringify(rows));
  await screenshot(page, 'audit');
  // The launch itself was recorded (by id) before the app was known.
  await page.locator('input[name=client]').fill('');
  await page.locator('input[name=patient]').fill('pat-003');
  await page.getByRole('button', { name: 'Filter' }).click();
  const launchRow = await page.locator('tbody tr', { hasText: launchId }).first().textContent();
  assert.match(launchRow, /launch/);
});
