import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createPkcePair, pkceChallenge, verifyPkce } from 'smartgate';
import { throws } from './helpers.mjs';

const s256 = (v) => createHash('sha256').update(v, 'ascii').digest('base64url');

test('rfc7636_appendix_b', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  assert.equal(pkceChallenge(verifier), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  assert.equal(verifyPkce(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'), true);
  assert.equal(verifyPkce(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'S256'), true);
});

test('createPkcePair matches node:crypto sha256, and pairs are fresh', () => {
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const pair = createPkcePair();
    assert.equal(pair.method, 'S256');
    assert.match(pair.verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(pair.challenge, s256(pair.verifier));
    assert.equal(verifyPkce(pair.verifier, pair.challenge), true);
    assert.equal(verifyPkce(pair.verifier, s256(pair.verifier + 'x')), false);
    seen.add(pair.verifier);
  }
  assert.equal(seen.size, 200);
});

test('pkceChallenge agrees with node:crypto on every length and charset edge', () => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
  for (let len = 43; len <= 128; len++) {
    const v = Array.from({ length: len }, (_, i) => chars[(i * 7 + len) % chars.length]).join('');
    assert.equal(pkceChallenge(v), s256(v));
  }
});

test('malformed verifiers and methods have their codes', () => {
  throws(() => pkceChallenge('short'), 'ERR_PKCE_VERIFIER_LENGTH');
  throws(() => pkceChallenge('a'.repeat(129)), 'ERR_PKCE_VERIFIER_LENGTH');
  throws(() => pkceChallenge('a'.repeat(42) + '+'), 'ERR_PKCE_VERIFIER_CHARSET');
  throws(() => pkceChallenge('a'.repeat(42) + 'é'), 'ERR_PKCE_VERIFIER_CHARSET');
  const v = createPkcePair().verifier;
  throws(() => verifyPkce(v, v, 'plain'), 'ERR_PKCE_METHOD_UNSUPPORTED');
  throws(() => verifyPkce(v, v, 's256'), 'ERR_PKCE_METHOD_UNKNOWN');
});

test('wrong JS types are ERR_INVALID_ARGUMENT, never coerced', () => {
  for (const bad of [undefined, null, 43, {}, [], true, Symbol('x'), 10n]) {
    throws(() => pkceChallenge(bad), 'ERR_INVALID_ARGUMENT', String(typeof bad));
    throws(() => verifyPkce(bad, 'x'), 'ERR_INVALID_ARGUMENT');
    throws(() => verifyPkce('a'.repeat(43), bad), 'ERR_INVALID_ARGUMENT');
  }
  throws(() => verifyPkce('a'.repeat(43), 'x', 256), 'ERR_INVALID_ARGUMENT');
});
