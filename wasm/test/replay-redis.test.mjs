// Replay across instances: a real redis-server (Debian's) on 127.0.0.1 and a free port,
// and two ResourceGuards in two Node processes sharing it. A proof accepted by one is
// refused by the other; racing, exactly one wins.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { DpopKey } from 'smartgate';
import { AUD, ISS, keyPair, sign } from './helpers.mjs';

const run = promisify(execFile);
const child = new URL('./fixtures/guard-process.mjs', import.meta.url).pathname;
let redis;
let redisUrl;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

before(async () => {
  const port = await freePort();
  redisUrl = `redis://127.0.0.1:${port}`;
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = createClient({ url: redisUrl, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      await client.quit();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${e.message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

after(() => {
  redis?.kill('SIGTERM');
});

async function instance(request) {
  const jwks = { keys: [(await keyPair('ES256')).jwk] };
  const env = { ...process.env, SMARTGATE_CASE: JSON.stringify({ redisUrl, jwks, issuer: ISS, audience: AUD, request }) };
  const { stdout } = await run(process.execPath, [child], { env, cwd: new URL('..', import.meta.url).pathname });
  return JSON.parse(stdout);
}

async function dpopRequest() {
  const key = await DpopKey.generate();
  const now = Math.floor(Date.now() / 1000);
  const token = await sign('ES256', { iat: now, exp: now + 300, cnf: { jkt: key.thumbprint } });
  const url = 'https://ehr.example.org/fhir/Observation';
  const proof = await key.proof({ method: 'GET', url, accessToken: token });
  return { key, request: { method: 'GET', url, authorization: `DPoP ${token}`, dpop: proof } };
}

test('a proof accepted by one instance is refused by another', async () => {
  const { key, request } = await dpopRequest();
  assert.deepEqual(await instance(request), { ok: true, code: null, jkt: key.thumbprint });
  assert.deepEqual(await instance(request), { ok: false, code: 'ERR_DPOP_REPLAY', jkt: null });
  // The entry expires with the proof's window, not later.
  const client = createClient({ url: redisUrl });
  await client.connect();
  const keys = await client.keys('smartgate:dpop:*');
  assert.equal(keys.length, 1);
  const ttl = await client.ttl(keys[0]);
  assert.ok(ttl > 0 && ttl <= 62, `ttl ${ttl}`);
  await client.quit();
});

test('two instances racing on one proof: exactly one accepts it', async () => {
  const { request } = await dpopRequest();
  const outs = await Promise.all([instance(request), instance(request)]);
  assert.deepEqual(outs.map((o) => o.ok).sort(), [false, true]);
  assert.equal(outs.find((o) => !o.ok).code, 'ERR_DPOP_REPLAY');
});

test('Redis down: the guard refuses (fails closed)', async () => {
  const { request } = await dpopRequest();
  const { ResourceGuard } = await import('smartgate');
  const guard = new ResourceGuard({
    jwks: { keys: [(await keyPair('ES256')).jwk] },
    issuer: ISS,
    audience: AUD,
    replayCache: { checkAndInsert: () => Promise.reject(new Error('ECONNREFUSED')) },
  });
  const out = await guard.check(request);
  assert.deepEqual([out.ok, out.status, out.error, out.code], [false, 503, null, 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE']);
});
