import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAuthorizationResponseIss } from 'smartgate';
import { throws } from './helpers.mjs';

const EHR = 'https://ehr.example.org';

test('RFC 9207: the issuer the flow started with passes', () => {
  assert.equal(checkAuthorizationResponseIss(EHR, EHR), undefined);
  assert.equal(checkAuthorizationResponseIss(EHR, undefined, false), undefined);
});

test('RFC 9207: a mix-up (another issuer) and a missing iss are refused', () => {
  throws(() => checkAuthorizationResponseIss(EHR, 'https://evil.example.org'), 'ERR_AUTHZ_RESPONSE_ISS_MISMATCH');
  throws(() => checkAuthorizationResponseIss(EHR, `${EHR}/`), 'ERR_AUTHZ_RESPONSE_ISS_MISMATCH');
  throws(() => checkAuthorizationResponseIss(EHR, 'https://evil.example.org', false), 'ERR_AUTHZ_RESPONSE_ISS_MISMATCH');
  throws(() => checkAuthorizationResponseIss(EHR, undefined), 'ERR_AUTHZ_RESPONSE_ISS_MISSING');
  throws(() => checkAuthorizationResponseIss(EHR, null, true), 'ERR_AUTHZ_RESPONSE_ISS_MISSING');
});

test('RFC 9207: wrong argument types', () => {
  throws(() => checkAuthorizationResponseIss(1, EHR), 'ERR_INVALID_ARGUMENT');
  throws(() => checkAuthorizationResponseIss(EHR, 5), 'ERR_INVALID_ARGUMENT');
  throws(() => checkAuthorizationResponseIss(EHR, EHR, 'yes'), 'ERR_INVALID_ARGUMENT');
});
