// The example SMART app (examples/smart-app) in headless Chromium against the mock EHR,
// with a client nobody here wrote: `fhirclient` (the SMART JS client) does a standalone
// launch and an EHR launch through the mock's login, patient picker and consent pages,
// reads the Patient and searches Observations; smartgate's WebAssembly package (browser
// entry `smartgate/web`) verifies the id_token against the mock's JWKS.
//
// Needs the mock-ehr binary (`cargo build -p mock-ehr --bin mock-ehr`; found as in
// consent.test.mjs), the smartgate package (`wasm/build.sh` -> wasm/pkg) and fhirclient
// (this folder's `npm ci`). Everything binds 127.0.0.1 on port 0 and stops at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { DEFAULTS, startServer } from '../../examples/smart-app/serve.mjs';

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

const STANDALONE_SCOPE = 'openid fhirUser launch/patient patient/*.rs';
const EHR_SCOPE = 'openid fhirUser launch patient/*.rs';

let child;
let base; // the mock EHR's issuer, http://127.0.0.1:PORT
let app; // the static server of the example app
let clientId;
let context;
let profile;
// What the app's /config.json answers; a test may change it before a launch.
const config = {};

before(async () => {
  for (const file of [DEFAULTS.fhirclient, join(DEFAULTS.smartgate, 'web.js'), join(DEFAULTS.smartgate, 'smartgate_bg.wasm')]) {
    assert.ok(existsSync(file), `missing ${file} (npm ci in tests/browser; wasm/build.sh)`);
  }
  child = spawn(mockEhrBinary(), ['--host', '127.0.0.1', '--port', '0', '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  base = await new Promise((ok, fail) => {
    createInterface({ input: child.stdout }).once('line', (line) => ok(line.trim()));
    child.once('exit', (code) => fail(new Error(`mock-ehr exited (${code}) before printing its URL: ${stderr}`)));
  });
  child.stdout.resume();
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);

  app = await startServer({ config });
  // The app registers for its port (RFC 7591): a public client whose redirect URI's
  // origin the mock then allows by CORS on the token endpoint and the FHIR API.
  const smart = await (await fetch(`${base}/fhir/.well-known/smart-configuration`)).json();
  const registration = await fetch(smart.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'SMART Example App',
      redirect_uris: [`${app.origin}/callback`],
      token_endpoint_auth_method: 'none',
      scope: 'openid fhirUser launch launch/patient patient/*.rs',
    }),
  });
  assert.equal(registration.status, 201);
  ({ client_id: clientId } = await registration.json());
  Object.assign(config, { clientId, standaloneScope: STANDALONE_SCOPE, ehrScope: EHR_SCOPE });

  profile = mkdtempSync(join(tmpdir(), 'smartgate-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumBinary(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  // Chromium writes into its profile until it has closed.
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  await app?.close();
  child?.kill('SIGTERM');
});

/** The Observation search total the FHIR server itself reports for `patient`. */
async function serverObservationTotal(patient) {
  const minted = await fetch(`${base}/_admin/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, user: 'dr.smith', patient, scope: 'launch/patient patient/*.rs' }),
  });
  assert.equal(minted.status, 200);
  const { access_token: token } = await minted.json();
  const search = await fetch(`${base}/fhir/Observation?patient=${patient}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
  });
  assert.equal(search.status, 200);
  const bundle = await search.json();
  assert.equal(bundle.type, 'searchset');
  return bundle.total;
}

/** A fresh tab; page errors and failed app requests end the test with their text. */
async function newPage(t) {
  const page = await context.newPage();
  t.after(() => page.close());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.errors = errors;
  return page;
}

async function signIn(page) {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(await page.textContent('body'), /SMART Example App/);
  await page.getByLabel('Username').fill('dr.smith');
  await page.getByLabel('Password').fill('password');
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function consent(page, patient, scope) {
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  assert.match(await page.textContent('body'), new RegExp(`Patient/${patient}`));
  for (const s of scope.split(' ')) {
    assert.equal(await page.locator(`input[type=checkbox][value="${s}"]`).isChecked(), true, s);
  }
  await page.getByRole('button', { name: 'Allow' }).click();
}

/** Waits for the app's redirect page to finish; returns what it shows. */
async function appResult(page) {
  await page.waitForURL((url) => url.href.startsWith(`${app.origin}/callback`));
  const status = page.locator('#status');
  await status.filter({ hasText: /^(Done|Error: .*)$/ }).waitFor({ timeout: 30_000 }).catch(() => {});
  const read = (id) => page.locator(`#${id}`).textContent();
  const shown = {
    status: await read('status'),
    patientId: await read('patient-id'),
    patientName: await read('patient-name'),
    observationCount: await read('observation-count'),
    observationsListed: await page.locator('#observations li').count(),
    idToken: await read('id-token-status'),
    idTokenError: await read('id-token-error'),
    idTokenMessage: await read('id-token-message'),
    sub: await read('id-token-sub'),
    fhirUser: await read('id-token-fhiruser'),
    iss: await read('id-token-iss'),
    aud: await read('id-token-aud'),
  };
  assert.equal(shown.status, 'Done', `${JSON.stringify(shown)} ${page.errors.join('; ')}`);
  return shown;
}

test('standalone launch: login, patient picker, consent; Patient, Observations, verified id_token', { timeout: 90_000 }, async (t) => {
  const page = await newPage(t);
  await page.goto(`${app.origin}/launch?iss=${encodeURIComponent(`${base}/fhir`)}`);
  await signIn(page);
  await page.getByRole('heading', { name: 'Choose a patient' }).waitFor();
  await page.getByLabel('Patient/pat-007').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await consent(page, 'pat-007', STANDALONE_SCOPE);

  const shown = await appResult(page);
  t.diagnostic(JSON.stringify(shown));
  assert.equal(shown.patientId, 'pat-007');
  assert.equal(shown.patientName, 'Beatriz Nakamura');
  const total = await serverObservationTotal('pat-007');
  assert.ok(total > 0, `pat-007 has observations (${total})`);
  assert.equal(shown.observationCount, String(total));
  assert.ok(shown.observationsListed > 0 && shown.observationsListed <= total, `${shown.observationsListed} listed`);
  assert.equal(shown.idToken, 'id_token verified', shown.idTokenMessage);
  assert.equal(shown.idTokenError, '');
  assert.equal(shown.sub, 'dr.smith');
  assert.equal(shown.fhirUser, `${base}/fhir/Practitioner/prac-001`);
  assert.equal(shown.iss, base);
  assert.equal(shown.aud, clientId);
});

test('EHR launch: the launch context patient, login, consent; Patient, Observations, verified id_token', { timeout: 90_000 }, async (t) => {
  const launched = await fetch(`${base}/_admin/launch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ patient: 'pat-003', user: 'dr.smith' }),
  });
  assert.equal(launched.status, 200);
  const { launch, iss } = await launched.json();
  assert.equal(iss, `${base}/fhir`);

  // What the EHR does when a clinician opens the app: its launch URL with iss and launch.
  const page = await newPage(t);
  await page.goto(`${app.origin}/launch?iss=${encodeURIComponent(iss)}&launch=${encodeURIComponent(launch)}`);
  await signIn(page);
  await consent(page, 'pat-003', EHR_SCOPE); // no picker: the launch names the patient

  const shown = await appResult(page);
  t.diagnostic(JSON.stringify(shown));
  assert.equal(shown.patientId, 'pat-003');
  assert.equal(shown.patientName, 'Dmitri Okonkwo');
  const total = await serverObservationTotal('pat-003');
  assert.ok(total > 0, `pat-003 has observations (${total})`);
  assert.equal(shown.observationCount, String(total));
  assert.equal(shown.idToken, 'id_token verified', shown.idTokenMessage);
  assert.equal(shown.sub, 'dr.smith');
  assert.equal(shown.fhirUser, `${base}/fhir/Practitioner/prac-001`);
  assert.equal(shown.iss, base);
  assert.equal(shown.aud, clientId);
});

test('an id_token from an issuer the app does not trust is shown as not verified, with the smartgate code', { timeout: 90_000 }, async (t) => {
  // The app pins the issuer it trusts; the mock's id_token names another one.
  config.issuer = 'https://ehr.example.org';
  t.after(() => { delete config.issuer; });
  const page = await newPage(t);
  await page.goto(`${app.origin}/launch?iss=${encodeURIComponent(`${base}/fhir`)}`);
  await signIn(page);
  await page.getByRole('heading', { name: 'Choose a patient' }).waitFor();
  await page.getByLabel('Patient/pat-012').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await consent(page, 'pat-012', STANDALONE_SCOPE);

  const shown = await appResult(page);
  t.diagnostic(JSON.stringify(shown));
  assert.equal(shown.patientId, 'pat-012');
  assert.equal(shown.idToken, 'id_token NOT verified');
  assert.equal(shown.idTokenError, 'ERR_JWT_ISSUER_MISMATCH');
  assert.equal(shown.sub, '', 'no identity shown from an unverified id_token');
  assert.equal(shown.fhirUser, '');
});

test('an id_token altered on the way (another sub, same signature) is shown as not verified', { timeout: 90_000 }, async (t) => {
  const page = await newPage(t);
  // Someone between the app and the token endpoint swaps the id_token's payload: fhirclient
  // would take the new `sub` at face value; smartgate's signature check must refuse it.
  let altered = 0;
  await page.route(`${base}/token`, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    if (body.id_token) {
      const [header, payload, signature] = body.id_token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url'));
      assert.equal(claims.sub, 'dr.smith');
      claims.sub = 'dr.jones';
      claims.fhirUser = `${base}/fhir/Practitioner/prac-002`;
      body.id_token = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
      altered += 1;
    }
    await route.fulfill({ response, json: body });
  });
  await page.goto(`${app.origin}/launch?iss=${encodeURIComponent(`${base}/fhir`)}`);
  await signIn(page);
  await page.getByRole('heading', { name: 'Choose a patient' }).waitFor();
  await page.getByLabel('Patient/pat-007').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await consent(page, 'pat-007', STANDALONE_SCOPE);

  const shown = await appResult(page);
  t.diagnostic(JSON.stringify(shown));
  assert.equal(altered, 1);
  assert.equal(shown.patientId, 'pat-007');
  assert.equal(shown.idToken, 'id_token NOT verified');
  assert.equal(shown.idTokenError, 'ERR_JWS_SIGNATURE_INVALID');
  assert.equal(shown.sub, '');
  assert.equal(shown.fhirUser, '');
});
