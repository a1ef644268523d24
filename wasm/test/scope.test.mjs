import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScopeSet } from 'smartgate';
import { throws } from './helpers.mjs';

test('parse, render, v2, permits', () => {
  const s = ScopeSet.parse('launch/patient openid fhirUser patient/Observation.read user/*.cruds');
  assert.deepEqual(s.scopes, ['launch/patient', 'openid', 'fhirUser', 'patient/Observation.read', 'user/*.cruds']);
  assert.equal(s.toString(), 'launch/patient openid fhirUser patient/Observation.read user/*.cruds');
  assert.equal(s.toV2(), 'launch/patient openid fhirUser patient/Observation.rs user/*.cruds');
  assert.equal(JSON.stringify({ s }), JSON.stringify({ s: s.toString() }));
  assert.equal(s.permits({ resourceType: 'Observation', interaction: 'read', context: 'patient' }), true);
  assert.equal(s.permits({ resourceType: 'Observation', interaction: 'create', context: 'patient' }), false);
  assert.equal(s.permits({ resourceType: 'Practitioner', interaction: 'read', context: 'patient' }), false);
  assert.equal(s.permits({ resourceType: 'Practitioner', interaction: 'delete', context: 'user' }), true);
});

test('a patient/ scope never grants a user or system request', () => {
  const s = ScopeSet.parse('patient/*.cruds');
  for (const context of ['user', 'system']) {
    assert.equal(s.permits({ resourceType: 'Observation', interaction: 'read', context }), false);
  }
  assert.equal(s.permits({ resourceType: 'Observation', interaction: 'read' }), true);
});

test('authorize returns the constraint to apply', () => {
  const s = ScopeSet.parse('patient/Observation.rs?category=laboratory');
  const d = s.authorize({ resourceType: 'Observation', interaction: 'search', context: 'patient', params: { code: 'x' } });
  assert.equal(d.ok, true);
  assert.equal(d.unrestricted, false);
  assert.equal(d.enforcement, 'filter');
  assert.deepEqual(d.constraints[0].query, [['category', 'laboratory']]);
  assert.equal(d.constraints[0].patientCompartment.resourceType, 'Observation');
  assert.ok(d.constraints[0].patientCompartment.params.includes('subject'));
  // The same parameter, already present in the search, is satisfied; as pairs and as URLSearchParams.
  for (const params of [[['category', 'laboratory']], new URLSearchParams('category=laboratory')]) {
    const e = s.authorize({ resourceType: 'Observation', interaction: 'search', context: 'patient', params });
    assert.deepEqual(e.constraints[0].query, []);
  }
  const denied = s.authorize({ resourceType: 'Observation', interaction: 'delete', context: 'patient' });
  assert.equal(denied.ok, false);
  assert.equal(denied.missing, 'd');
  assert.deepEqual(denied.requiredScopes, ['patient/Observation.d']);
  assert.match(denied.message, /delete/);
});

test('lenient parsing drops and reports', () => {
  const { scopes, dropped } = ScopeSet.parseLenient('patient/Observation.rs bogus/Observation.rs patient/Nope.rs patient/Observation.sr');
  assert.equal(scopes.toString(), 'patient/Observation.rs');
  assert.deepEqual(
    dropped.map((d) => [d.scope, d.code]),
    [
      ['bogus/Observation.rs', 'ERR_SCOPE_CONTEXT_UNKNOWN'],
      ['patient/Nope.rs', 'ERR_SCOPE_RESOURCE_UNKNOWN'],
      ['patient/Observation.sr', 'ERR_SCOPE_PERMISSIONS_INVALID'],
    ],
  );
});

test('every scope refusal has its code', () => {
  const cases = [
    ['patient/Observation', 'ERR_SCOPE_MALFORMED'],
    ['bogus/Observation.rs', 'ERR_SCOPE_CONTEXT_UNKNOWN'],
    ['patient/Nope.rs', 'ERR_SCOPE_RESOURCE_UNKNOWN'],
    ['patient/Observation.rx', 'ERR_SCOPE_PERMISSIONS_INVALID'],
    ['patient/Observation.rs?', 'ERR_SCOPE_QUERY_INVALID'],
    ['patient/Observation.read?a=b', 'ERR_SCOPE_QUERY_INVALID'],
    [Array(257).fill('openid').map((s, i) => s + i).join(' '), 'ERR_SCOPE_TOO_MANY'],
    ['a'.repeat(16 * 1024 + 1), 'ERR_SCOPE_TOO_LONG'],
  ];
  for (const [scopes, code] of cases) throws(() => ScopeSet.parse(scopes), code, scopes.slice(0, 40));
  throws(() => ScopeSet.parseLenient('a'.repeat(16 * 1024 + 1)), 'ERR_SCOPE_TOO_LONG');
  const s = ScopeSet.parse('user/*.rs');
  throws(() => s.permits({ resourceType: 'Observation', interaction: 'nope' }), 'ERR_SCOPE_INTERACTION_UNKNOWN');
  throws(() => s.permits({ resourceType: 'Nope', interaction: 'read' }), 'ERR_SCOPE_RESOURCE_UNKNOWN');
  throws(() => s.permits({ resourceType: 'Observation', interaction: 'read', context: 'admin' }), 'ERR_SCOPE_CONTEXT_UNKNOWN');
});

test('wrong request shapes are ERR_INVALID_ARGUMENT', () => {
  const s = ScopeSet.parse('user/*.rs');
  for (const bad of [
    undefined,
    null,
    'Observation',
    [],
    {},
    { resourceType: 'Observation' },
    { resourceType: 5, interaction: 'read' },
    { resourceType: 'Observation', interaction: 'read', params: { a: 1 } },
    { resourceType: 'Observation', interaction: 'read', params: 'a=b' },
    { resourceType: 'Observation', interaction: 'read', params: [['a']] },
    { resourceType: 'Observation', interaction: 'read', extra: true },
  ]) {
    throws(() => s.permits(bad), 'ERR_INVALID_ARGUMENT', JSON.stringify(bad));
    throws(() => s.authorize(bad), 'ERR_INVALID_ARGUMENT', JSON.stringify(bad));
  }
  for (const bad of [undefined, 5, {}]) {
    throws(() => ScopeSet.parse(bad), 'ERR_INVALID_ARGUMENT');
    throws(() => ScopeSet.parseLenient(bad), 'ERR_INVALID_ARGUMENT');
  }
  assert.throws(() => new ScopeSet(), TypeError);
});
