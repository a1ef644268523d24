// `node wasm/bench/size.mjs`: builds both packages (every algorithm; ES256 only) and
// reports the shipped .wasm sizes (raw and gzip -9, against the goals), the JS glue, and
// where the bytes go: code size per crate and the largest functions, read from the name
// section of cargo's output (the shipped file has none; wasm-bindgen strips it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const wasmDir = fileURLToPath(new URL('..', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const artifact = `${process.env.CARGO_TARGET_DIR ?? `${root}target`}/wasm32-unknown-unknown/wasm-release/smartgate_wasm.wasm`;
const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

// ---- a minimal wasm reader: code-section body sizes and the function-name subsection ----
function leb(buf, pos) {
  let result = 0;
  let shift = 0;
  let byte;
  do {
    byte = buf[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [result, pos];
}

function functions(buf) {
  let pos = 8;
  let imported = 0;
  const bodies = [];
  const names = new Map();
  while (pos < buf.length) {
    const id = buf[pos++];
    let size;
    [size, pos] = leb(buf, pos);
    const end = pos + size;
    if (id === 2) {
      // imports: count function imports (kind 0)
      let n;
      let p = pos;
      [n, p] = leb(buf, p);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = leb(buf, p);
        p += len;
        [len, p] = leb(buf, p);
        p += len;
        const kind = buf[p++];
        if (kind === 0) {
          imported++;
          [, p] = leb(buf, p);
        } else if (kind === 1) {
          p++;
          const flags = buf[p++];
          [, p] = leb(buf, p);
          if (flags & 1) [, p] = leb(buf, p);
        } else if (kind === 2) {
          const flags = buf[p++];
          [, p] = leb(buf, p);
          if (flags & 1) [, p] = leb(buf, p);
        } else if (kind === 3) {
          p += 2;
        } else {
          [, p] = leb(buf, p);
        }
      }
    } else if (id === 10) {
      let n;
      let p = pos;
      [n, p] = leb(buf, p);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = leb(buf, p);
        bodies.push(len);
        p += len;
      }
    } else if (id === 0) {
      let len;
      let p = pos;
      [len, p] = leb(buf, p);
      const name = buf.subarray(p, p + len).toString();
      p += len;
      if (name === 'name') {
        while (p < end) {
          const sub = buf[p++];
          let subSize;
          [subSize, p] = leb(buf, p);
          const subEnd = p + subSize;
          if (sub === 1) {
            let n;
            let q = p;
            [n, q] = leb(buf, q);
            for (let i = 0; i < n; i++) {
              let idx;
              let l;
              [idx, q] = leb(buf, q);
              [l, q] = leb(buf, q);
              names.set(idx, buf.subarray(q, q + l).toString());
              q += l;
            }
          }
          p = subEnd;
        }
      }
    }
    pos = end;
  }
  return bodies.map((size, i) => ({ size, name: demangle(names.get(i + imported) ?? `func[${i + imported}]`) }));
}

// Rust symbols, readable enough to group: legacy `_ZN4sha26sha51211compress512..E`
// becomes `sha2::sha512::compress512`; v0 `_R...` names keep their identifiers.
function demangle(sym) {
  if (sym.startsWith('_ZN')) {
    const parts = [];
    let i = 3;
    while (i < sym.length && sym[i] !== 'E') {
      const m = sym.slice(i).match(/^(\d+)/);
      if (!m) break;
      const len = Number(m[1]);
      i += m[1].length;
      parts.push(sym.slice(i, i + len));
      i += len;
    }
    if (parts.length && /^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
    return parts
      .join('::')
      .replace(/\$LT\$/g, '<')
      .replace(/\$GT\$/g, '>')
      .replace(/\$RF\$/g, '&')
      .replace(/\$u20\$/g, ' ')
      .replace(/\$C\$/g, ',')
      .replace(/\$u[0-9a-f]+\$/g, '')
      .replace(/\.\./g, '::')
      .replace(/^_</, '<');
  }
  if (sym.startsWith('_R')) {
    // v0: skip the structure, keep the identifiers (length-prefixed, so their contents
    // are never mistaken for structure); `s<base62>_` is a disambiguator.
    const idents = [];
    let i = 2;
    while (i < sym.length) {
      const c = sym[i];
      if (c >= '0' && c <= '9') {
        let j = i;
        while (sym[j] >= '0' && sym[j] <= '9') j++;
        const n = Number(sym.slice(i, j));
        if (sym[j] === '_') j++;
        idents.push(sym.slice(j, j + n));
        i = j + n;
      } else if (c === 's' && sym[i - 1] !== 'N') {
        const end = sym.indexOf('_', i);
        i = end < 0 ? sym.length : end + 1;
      } else {
        i++;
      }
    }
    return idents.join('::');
  }
  return sym;
}

function crateOf(name) {
  const clean = name.replace(/^[<&]+/, '').replace(/^(impl )?/, '');
  const m = clean.match(/^([A-Za-z_][A-Za-z0-9_]*)::/);
  if (m) return m[1];
  if (/^(memcpy|memset|memmove|memcmp|__)/.test(clean)) return '(compiler builtins)';
  return '(exports and glue)';
}

function breakdown(label, buf, top) {
  const fns = functions(buf);
  const total = fns.reduce((a, f) => a + f.size, 0);
  const crates = new Map();
  for (const f of fns) crates.set(crateOf(f.name), (crates.get(crateOf(f.name)) ?? 0) + f.size);
  console.log(`\n${label}: ${fns.length} functions, ${kib(total)} of code (of ${kib(buf.length)} before wasm-bindgen)`);
  console.log('  by crate:');
  for (const [c, s] of [...crates].sort((a, b) => b[1] - a[1]).slice(0, 16)) {
    console.log(`    ${kib(s).padStart(10)} ${((100 * s) / total).toFixed(1).padStart(5)}%  ${c}`);
  }
  console.log(`  largest functions:`);
  for (const f of [...fns].sort((a, b) => b.size - a.size).slice(0, top)) {
    console.log(`    ${kib(f.size).padStart(10)}  ${f.name.slice(0, 110)}`);
  }
}

function build(args) {
  execFileSync(`${wasmDir}build.sh`, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return readFileSync(artifact);
}

const es256Named = build(['--es256']);
const allNamed = build([]);
const rows = [
  ['every algorithm', readFileSync(`${wasmDir}pkg/smartgate_bg.wasm`), 250],
  ['ES256 only (build.sh --es256)', readFileSync(`${wasmDir}pkg-es256/smartgate_bg.wasm`), 120],
];
console.log('shipped .wasm (one file for every entry):');
for (const [name, buf, goal] of rows) {
  const z = gz(buf);
  console.log(`  ${name.padEnd(32)} ${kib(buf.length).padStart(10)} raw ${kib(z).padStart(10)} gzip -9   goal <= ${goal} KiB: ${z <= goal * 1024 ? 'met' : 'MISSED'}`);
}
console.log('JS glue (gzip -9):');
for (const f of ['node.cjs', 'web.js', 'bindgen-node.cjs', 'bindgen-web.js']) {
  const buf = readFileSync(`${wasmDir}pkg/${f}`);
  console.log(`  ${f.padEnd(32)} ${kib(buf.length).padStart(10)} raw ${kib(gz(buf)).padStart(10)} gzip -9`);
}
breakdown('every algorithm', allNamed, 25);
breakdown('ES256 only', es256Named, 15);
