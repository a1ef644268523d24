// Every documented error code is asserted by some test, and the package's list of codes
// (index.d.ts) holds every code the core documents (core/README.md), so a new core code
// cannot slip through untyped and untested.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

const read = (rel) => readFileSync(new URL(rel, import.meta.url), 'utf8');
const codesIn = (text) => new Set(text.match(/ERR_[A-Z0-9_]+/g) ?? []);

const typed = codesIn(read('../js/index.d.ts').split('export type SmartgateErrorCode =')[1].split(';')[0]);
const core = codesIn(read('../../core/README.md'));

// Codes the JS API cannot produce, and why (each checked not to be asserted elsewhere
// by accident of a typo).
const UNREACHABLE = {
  // verifyPkce answers false for a mismatch (the DESIGN signature returns a boolean).
  ERR_PKCE_MISMATCH: 'verifyPkce returns false',
  // Every base64url input the JS API takes is inside a JWS or JWK, whose parsers report
  // ERR_JWS_MALFORMED / ERR_JWK_MALFORMED instead.
  ERR_BASE64_INVALID: 'reported as ERR_JWS_MALFORMED or ERR_JWK_MALFORMED',
};

test('the typed codes cover the core README', () => {
  const missing = [...core].filter((c) => !typed.has(c));
  assert.deepEqual(missing, []);
});

test('every typed code is asserted by a test', () => {
  const here = new URL('.', import.meta.url);
  let asserted = new Set();
  for (const f of readdirSync(here)) {
    if (f.endsWith('.test.mjs') && f !== 'codes.test.mjs') asserted = new Set([...asserted, ...codesIn(read(f))]);
  }
  const untested = [...typed].filter((c) => !asserted.has(c) && !(c in UNREACHABLE));
  assert.deepEqual(untested, []);
  for (const c of Object.keys(UNREACHABLE)) assert.ok(typed.has(c), c);
});
