// The READMEs show the examples the tests run, character for character.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const read = (rel) => readFileSync(new URL(rel, import.meta.url), 'utf8');

test('the README examples are the files the browser, worker and Redis tests run', () => {
  const readmes = { 'wasm/README.md': read('../README.md'), 'README.md': read('../../README.md') };
  const shown = {
    'examples/edge-worker.js': ['wasm/README.md', 'README.md'],
    'examples/browser-pkce.js': ['wasm/README.md', 'README.md'],
    'examples/redis-replay-cache.mjs': ['wasm/README.md'],
  };
  for (const [file, where] of Object.entries(shown)) {
    const code = read(`../${file}`).trimEnd();
    for (const readme of where) assert.ok(readmes[readme].includes(code), `${readme} does not show ${file} as it is`);
  }
  assert.ok(read('../examples/edge-worker.js').trimEnd().split('\n').length <= 15);
});
