// Shared by the node --test suites: keys and tokens made by jose (an independent
// implementation), and assertions on SmartgateError codes.
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { SmartgateError } from 'smartgate';

export const ISS = 'https://ehr.example.org';
export const AUD = 'https://ehr.example.org/fhir';
export const NOW = 1_800_000_000;
export const ALGS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384'];

const pairs = new Map();
/** A (cached) jose key pair and its public JWK with kid = alg. */
export async function keyPair(alg) {
  if (!pairs.has(alg)) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: alg };
    pairs.set(alg, { publicKey, privateKey, jwk });
  }
  return pairs.get(alg);
}

/** A JWT signed by jose. `header` adds to `{ alg, kid }`; claims default to a valid token at NOW. */
export async function sign(alg, claims = {}, header = {}) {
  const { privateKey } = await keyPair(alg);
  return new jose.SignJWT({ iss: ISS, aud: AUD, sub: 'Patient/1', iat: NOW, exp: NOW + 300, ...claims })
    .setProtectedHeader({ alg, kid: alg, ...header })
    .sign(privateKey);
}

/** A compact JWS over raw header and payload objects, signed by jose (for malformed claims). */
export async function signRaw(alg, header, payload) {
  const { privateKey } = await keyPair(alg);
  return new jose.CompactSign(new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload)))
    .setProtectedHeader({ alg, kid: alg, ...header })
    .sign(privateKey);
}

export const b64u = (v) => (typeof v === 'string' || v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(JSON.stringify(v))).toString('base64url');

/** Asserts that `fn()` throws (or rejects with) a SmartgateError with `code`. */
export async function rejects(fn, code, message) {
  let error;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${code}, but it succeeded${message ? ` (${message})` : ''}`);
  assert.ok(error instanceof SmartgateError, `expected a SmartgateError ${code}, got ${error?.name}: ${error?.message}`);
  assert.equal(error.name, 'SmartgateError');
  assert.ok(error instanceof Error);
  assert.equal(error.code, code, `${message ?? ''}: ${error.message}`);
  assert.ok(error.message.length > 0);
  return error;
}

/** The synchronous variant: throws, does not return a rejected promise. */
export function throws(fn, code, message) {
  let error;
  let result;
  try {
    result = fn();
  } catch (e) {
    error = e;
  }
  assert.ok(!(result instanceof Promise), 'expected a synchronous function');
  assert.ok(error, `expected ${code}, but it succeeded${message ? ` (${message})` : ''}`);
  assert.ok(error instanceof SmartgateError, `expected SmartgateError ${code}, got ${error?.name}: ${error?.message}`);
  assert.equal(error.code, code, `${message ?? ''}: ${error.message}`);
  return error;
}

export const CRYPTO = [undefined, 'webcrypto', 'builtin'];
