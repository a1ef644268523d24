import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as jose from 'jose';
import { JwkSet, jwkThumbprint } from 'smartgate';
import { keyPair, throws } from './helpers.mjs';

// RFC 7638 section 3.1.
const RFC7638 = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};

test('rfc7638_section_3_1, as an object and as text', () => {
  assert.equal(jwkThumbprint(RFC7638), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  assert.equal(jwkThumbprint(JSON.stringify(RFC7638)), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
});

test('thumbprints agree with jose for every key type', async () => {
  for (const alg of ['ES256', 'ES384', 'RS256']) {
    const { jwk } = await keyPair(alg);
    assert.equal(jwkThumbprint(jwk), await jose.calculateJwkThumbprint(jwk, 'sha256'), alg);
  }
});

test('JwkSet keeps what verifies, reports the rest, and round-trips', async () => {
  const es = (await keyPair('ES256')).jwk;
  const set = JwkSet.parse({
    keys: [
      es,
      { kty: 'oct', kid: 'hmac', alg: 'HS256' },
      { ...es, kid: 'enc', use: 'enc' },
      { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'ed' },
    ],
  });
  assert.deepEqual(
    set.keys.map((k) => k.kid),
    ['ES256'],
  );
  assert.equal(set.keys[0].thumbprint, jwkThumbprint(es));
  assert.deepEqual(
    set.skipped.map((s) => [s.index, s.kid, s.code]),
    [
      [1, 'hmac', 'ERR_JWK_KTY_UNSUPPORTED'],
      [2, 'enc', 'ERR_JWK_USE_MISMATCH'],
      [3, 'ed', 'ERR_JWK_KTY_UNSUPPORTED'],
    ],
  );
  const json = set.toJSON();
  assert.equal(json.keys.length, 1);
  assert.equal(JwkSet.parse(json).keys[0].thumbprint, set.keys[0].thumbprint);
});

test('every JWK refusal has its code', async () => {
  const es = (await keyPair('ES256')).jwk;
  const rsa = (await keyPair('RS256')).jwk;
  const x = Buffer.from(es.x, 'base64url');
  const cases = [
    [{ kty: 5 }, 'ERR_JWK_MALFORMED'],
    [{ ...es, x: 'not+base64' }, 'ERR_JWK_MALFORMED'],
    [{ ...es, d: 'AAAA' }, 'ERR_JWK_PRIVATE_KEY'],
    [{ kty: 'oct', k: 'AAAA' }, 'ERR_JWK_PRIVATE_KEY'],
    [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }, 'ERR_JWK_KTY_UNSUPPORTED'],
    [{ ...es, crv: 'P-521' }, 'ERR_JWK_CRV_UNSUPPORTED'],
    [{ ...es, x: x.subarray(1).toString('base64url') }, 'ERR_JWK_COORDINATE_LENGTH'],
    [{ ...es, y: es.x }, 'ERR_JWK_POINT_INVALID'],
    [{ ...rsa, n: Buffer.alloc(128, 0xff).toString('base64url') }, 'ERR_JWK_RSA_TOO_SHORT'],
    [{ ...rsa, n: Buffer.alloc(1025, 0xff).toString('base64url') }, 'ERR_JWK_RSA_TOO_LONG'],
    [{ ...rsa, e: 'Ag' }, 'ERR_JWK_RSA_EXPONENT_INVALID'],
    [{ ...es, use: 'enc' }, 'ERR_JWK_USE_MISMATCH'],
    [{ ...es, key_ops: ['encrypt'] }, 'ERR_JWK_KEY_OPS_MISMATCH'],
    [{ ...es, alg: 'RS256' }, 'ERR_JWK_ALG_MISMATCH'],
  ];
  for (const [jwk, code] of cases) {
    throws(() => jwkThumbprint(jwk), code, JSON.stringify(jwk).slice(0, 60));
  }
});

test('key-set refusals', async () => {
  const es = (await keyPair('ES256')).jwk;
  for (const bad of ['[]', '{}', '{"keys":{}}', 'nope', { keys: 'x' }, { key: [] }]) {
    throws(() => JwkSet.parse(bad), 'ERR_JWKS_MALFORMED', JSON.stringify(bad));
  }
  throws(() => JwkSet.parse({ keys: Array(65).fill(es) }), 'ERR_JWKS_TOO_MANY_KEYS');
  throws(() => JwkSet.parse({ keys: [es, { ...es, d: 'AAAA' }] }), 'ERR_JWK_PRIVATE_KEY');
  throws(() => JwkSet.parse(' '.repeat(256 * 1024 + 1)), 'ERR_INPUT_TOO_LARGE');
  throws(() => jwkThumbprint(' '.repeat(256 * 1024 + 1)), 'ERR_INPUT_TOO_LARGE');
  for (const bad of [undefined, null, 5, true]) {
    throws(() => JwkSet.parse(bad), 'ERR_INVALID_ARGUMENT');
    throws(() => jwkThumbprint(bad), 'ERR_INVALID_ARGUMENT');
  }
  assert.throws(() => new JwkSet(), TypeError);
});
