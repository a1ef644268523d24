// A SMART app in the browser: the SMART JS client (`fhirclient`, window.FHIR) does the
// launch, the code exchange and the FHIR calls; smartgate's WebAssembly package checks
// the OpenID Connect id_token (signature against the server's JWKS, issuer, audience,
// expiry) before the app trusts who signed in.
//
// config.json, next to this file:
//   clientId         the client_id the EHR registered for this app (also the id_token's
//                    expected audience)
//   standaloneScope  scopes of a standalone launch (the app is opened with ?iss=FHIR_BASE)
//   ehrScope         scopes of an EHR launch (the EHR opens the app with ?iss=..&launch=..)
//   redirectUri      optional; default: ./callback next to the launch page
//   issuer           optional; the only id_token issuer to accept. Default: the `issuer`
//                    of the FHIR server's SMART discovery document.
import init, { RemoteJwkSet, verifyJwt } from 'smartgate/web';

async function loadConfig() {
  const response = await fetch(new URL('./config.json', import.meta.url));
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return response.json();
}

/** The launch page: an EHR launch when `launch` is in the URL, a standalone one otherwise. */
export async function launch() {
  const config = await loadConfig();
  const params = new URL(window.location.href).searchParams;
  if (!params.get('iss')) throw new Error('open this page with ?iss=<FHIR base URL>');
  const ehrLaunch = params.has('launch');
  // fhirclient reads `iss` and `launch` from the URL, fetches the SMART configuration,
  // makes the PKCE pair and state, and redirects to the authorization endpoint.
  await window.FHIR.oauth2.authorize({
    clientId: config.clientId,
    scope: ehrLaunch ? config.ehrScope : config.standaloneScope,
    redirectUri: config.redirectUri ?? new URL('./callback', window.location.href).href,
    pkceMode: 'required',
  });
}

/** The redirect page: finish the authorization, read the record, check the id_token. */
export async function main() {
  const config = await loadConfig();
  const client = await window.FHIR.oauth2.ready();
  setStatus('Signed in; reading the record...');

  const patient = await client.patient.read();
  text('patient-id', patient.id);
  text('patient-name', humanName(patient));

  const bundle = await client.request(`Observation?patient=${encodeURIComponent(client.patient.id)}`);
  text('observation-count', String(bundle.total ?? (bundle.entry ?? []).length));
  const list = document.getElementById('observations');
  for (const { resource } of bundle.entry ?? []) {
    const li = document.createElement('li');
    const value = resource.valueQuantity;
    li.textContent = `${resource.code?.text ?? resource.code?.coding?.[0]?.display ?? resource.id}` +
      (value ? `: ${value.value} ${value.unit ?? ''}` : '');
    list.append(li);
  }

  await checkIdToken(client, config);
  setStatus('Done');
}

/**
 * fhirclient decodes the id_token but does not check its signature; smartgate does,
 * against the keys the server publishes (its discovery's `jwks_uri`).
 */
async function checkIdToken(client, config) {
  const idToken = client.state.tokenResponse?.id_token;
  const status = document.getElementById('id-token-status');
  if (!idToken) {
    status.textContent = 'no id_token (request the openid scope)';
    return;
  }
  const discovery = await (await fetch(`${client.state.serverUrl}/.well-known/smart-configuration`)).json();
  await init(); // loads smartgate_bg.wasm once
  try {
    const { claims } = await verifyJwt(idToken, new RemoteJwkSet(discovery.jwks_uri), {
      issuer: config.issuer ?? discovery.issuer,
      audience: config.clientId,
      requiredClaims: ['sub', 'iat'],
    });
    status.textContent = 'id_token verified';
    status.className = 'ok';
    text('id-token-sub', claims.sub);
    text('id-token-fhiruser', claims.fhirUser ?? '');
    text('id-token-iss', claims.iss);
    text('id-token-aud', Array.isArray(claims.aud) ? claims.aud.join(' ') : claims.aud);
  } catch (e) {
    // A SmartgateError carries the core's stable code (ERR_JWT_ISSUER_MISMATCH, ...).
    status.textContent = 'id_token NOT verified';
    status.className = 'failed';
    text('id-token-error', e.code ?? e.name);
    text('id-token-message', e.message);
  }
}

function humanName(patient) {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  if (!name) return '';
  return name.text ?? [...(name.given ?? []), name.family].filter(Boolean).join(' ');
}

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function setStatus(message) {
  text('status', message);
}

export function showError(error) {
  const status = document.getElementById('status');
  status.textContent = `Error: ${error?.message ?? error}`;
  status.className = 'failed';
}
