// A host whose crypto misbehaves (this file runs in its own process): failures become
// SmartgateErrors with the core's codes, never a trap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DpopKey, createPkcePair } from 'smartgate';
import { rejects, throws } from './helpers.mjs';

test('no random source: ERR_RNG_UNAVAILABLE, and the module keeps working after', async () => {
  const original = globalThis.crypto.getRandomValues;
  globalThis.crypto.getRandomValues = () => {
    throw new Error('no entropy here');
  };
  try {
    throws(() => createPkcePair(), 'ERR_RNG_UNAVAILABLE');
    const key = await DpopKey.generate();
    await rejects(() => key.proof({ method: 'GET', url: 'https://ehr.example/fhir' }), 'ERR_RNG_UNAVAILABLE');
    await rejects(() => DpopKey.generate({ crypto: 'builtin' }), 'ERR_RNG_UNAVAILABLE');
  } finally {
    globalThis.crypto.getRandomValues = original;
  }
  assert.match(createPkcePair().verifier, /^[A-Za-z0-9_-]{43}$/);
});

test('a host signature of the wrong size: ERR_SIGNING_FAILED', async () => {
  const key = await DpopKey.generate();
  const subtle = globalThis.crypto.subtle;
  const original = subtle.sign;
  subtle.sign = async () => new ArrayBuffer(63);
  try {
    await rejects(() => key.proof({ method: 'GET', url: 'https://ehr.example/fhir' }), 'ERR_SIGNING_FAILED');
  } finally {
    subtle.sign = original;
  }
  assert.equal((await key.proof({ method: 'GET', url: 'https://ehr.example/fhir' })).split('.').length, 3);
});
