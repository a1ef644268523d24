// A SMART app in the browser starts a standalone launch with PKCE (RFC 7636, S256).
import init, { createPkcePair } from 'smartgate/web';

export async function authorizeUrl({ authorize, clientId, redirectUri, fhirBase, scope }) {
  await init(); // loads smartgate_bg.wasm once
  const { verifier, challenge, method } = createPkcePair();
  const state = crypto.randomUUID();
  sessionStorage.setItem(`pkce:${state}`, verifier); // sent with the token request later
  const url = new URL(authorize);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope, state,
    aud: fhirBase, code_challenge: challenge, code_challenge_method: method,
  });
  return url;
}
