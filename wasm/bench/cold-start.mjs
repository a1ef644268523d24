// `node wasm/bench/cold-start.mjs`: fresh `node` processes, alternating, each loading the
// library and verifying one ES256 token against a JWKS (ours: JwkSet.parse + verifyJwt;
// jose: createLocalJWKSet + jwtVerify). Reported: time from the process's start (node's
// own boot included, the same for both) and from the first line of the script, to the
// first verified token; medians of RUNS (default 15) processes each.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, ISSUER, es256Fixture } from './fixtures.mjs';

const runs = Number(process.env.RUNS ?? 15);
const wasmDir = fileURLToPath(new URL('..', import.meta.url));
const f = await es256Fixture();
const dir = mkdtempSync(join(tmpdir(), 'smartgate-cold-'));
const fixture = join(dir, 'fixture.json');
writeFileSync(fixture, JSON.stringify({ token: f.token, jwks: f.jwks, issuer: ISSUER, audience: AUDIENCE }));

// Both scripts read the fixture before the clock starts, so only the library's cost is timed.
const preamble = `
const start = performance.now();
`;
const scripts = {
  smartgate: `import { readFileSync } from 'node:fs';
const fx = JSON.parse(readFileSync(process.argv[2], 'utf8'));${preamble}
const { JwkSet, verifyJwt } = await import('smartgate');
const keys = JwkSet.parse(fx.jwks);
const { claims } = await verifyJwt(fx.token, keys, { issuer: fx.issuer, audience: fx.audience });
const end = performance.now();
if (!claims.sub) throw new Error('not verified');
console.log(JSON.stringify({ fromProcess: end, fromScript: end - start }));`,
  jose: `import { readFileSync } from 'node:fs';
const fx = JSON.parse(readFileSync(process.argv[2], 'utf8'));${preamble}
const jose = await import('jose');
const keys = jose.createLocalJWKSet(fx.jwks);
const { payload } = await jose.jwtVerify(fx.token, keys, { issuer: fx.issuer, audience: fx.audience });
const end = performance.now();
if (!payload.sub) throw new Error('not verified');
console.log(JSON.stringify({ fromProcess: end, fromScript: end - start }));`,
};
const files = {};
for (const [name, source] of Object.entries(scripts)) {
  files[name] = join(wasmDir, `bench/.cold-${name}.mjs`);
  writeFileSync(files[name], source);
}

const results = { smartgate: [], jose: [] };
try {
  for (let i = 0; i < runs; i++) {
    for (const name of i % 2 ? ['jose', 'smartgate'] : ['smartgate', 'jose']) {
      results[name].push(JSON.parse(execFileSync(process.execPath, [files[name], fixture], { cwd: wasmDir, encoding: 'utf8' })));
    }
  }
} finally {
  for (const file of Object.values(files)) rmSync(file, { force: true });
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = (name, key) => median(results[name].map((r) => r[key]));
console.log(`Node ${process.version}; ${runs} fresh processes each, alternating; medians in ms\n`);
console.log(`${''.padEnd(12)} ${'script start -> verified'.padStart(26)} ${'process start -> verified'.padStart(27)}`);
for (const name of ['smartgate', 'jose']) {
  console.log(`${name.padEnd(12)} ${m(name, 'fromScript').toFixed(1).padStart(26)} ${m(name, 'fromProcess').toFixed(1).padStart(27)}`);
}
const ratio = m('smartgate', 'fromScript') / m('jose', 'fromScript');
console.log(`\ngoal cold start <= 0.3x jose's (script start -> verified): ${ratio.toFixed(2)}x`);
console.log(`process start -> verified, ours / jose's:                ${(m('smartgate', 'fromProcess') / m('jose', 'fromProcess')).toFixed(2)}x`);
