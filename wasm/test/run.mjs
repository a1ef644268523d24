// `npm test`: the type check of the shipped declarations, then every node --test suite
// against the built package (wasm/pkg, reached as `smartgate` through node_modules).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

if (!existsSync(`${root}node_modules/smartgate/package.json`)) {
  console.error('wasm/pkg is not built (or not linked as node_modules/smartgate): run wasm/build.sh');
  process.exit(1);
}

function run(cmd, args) {
  console.log(`\n$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'test/tsconfig.json']);
console.log('tsc --noEmit: the declarations type-check');
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .sort()
  .map((f) => `test/${f}`);
run(process.execPath, ['--test', '--test-reporter=spec', ...files]);
