// Interleaved, time-boxed rounds: every candidate runs once per round, rounds alternate,
// and the median of the rounds is reported, so drift (thermal, GC, other processes on
// the machine) hits every candidate alike.

/**
 * Runs `fn` (sync or async) for about `ms` milliseconds; returns ops per second of wall
 * time, and ops per second of the process's CPU time (every thread: node:crypto's
 * synchronous verify and crypto.subtle's thread-pool work alike), which other load on
 * the machine disturbs much less than wall time.
 */
export async function timed(fn, ms) {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  // Batches of 8 between clock reads keep the clock out of the measurement.
  do {
    for (let i = 0; i < 8; i++) await fn();
    n += 8;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  const cpu = process.cpuUsage(cpu0);
  return { wall: (n * 1e9) / Number(elapsed), cpu: (n * 1e6) / (cpu.user + cpu.system) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `candidates`: [{ name, fn, ms? }]. Warms each up, then `rounds` interleaved rounds.
 * Returns [{ name, opsPerSec, usPerOp }] (medians).
 */
export async function compare(candidates, { rounds = 7, ms = 250, warmup = 150 } = {}) {
  for (const c of candidates) await timed(c.fn, warmup);
  const results = new Map(candidates.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? candidates : [...candidates].reverse();
    for (const c of order) results.get(c.name).push(await timed(c.fn, c.ms ?? ms));
  }
  return candidates.map((c) => {
    const ops = median(results.get(c.name).map((x) => x.wall));
    const cpuOps = median(results.get(c.name).map((x) => x.cpu));
    return { name: c.name, opsPerSec: ops, usPerOp: 1e6 / ops, cpuOpsPerSec: cpuOps, cpuUsPerOp: 1e6 / cpuOps };
  });
}

export function table(rows, baseline) {
  const base = rows.find((r) => r.name === baseline);
  const lines = rows.map((r) => {
    const ratio = (r.opsPerSec / base.opsPerSec).toFixed(2) + 'x';
    const cpuRatio = (r.cpuOpsPerSec / base.cpuOpsPerSec).toFixed(2) + 'x';
    return `${r.name.padEnd(44)} ${r.usPerOp.toFixed(1).padStart(9)} ${ratio.padStart(7)} ${r.cpuUsPerOp.toFixed(1).padStart(9)} ${cpuRatio.padStart(7)}`;
  });
  return [
    `${''.padEnd(44)} ${'wall us/op'.padStart(10)} ${'ratio'.padStart(6)} ${'cpu us/op'.padStart(9)} ${'ratio'.padStart(7)}   (ratio: ops/s vs ${baseline})`,
    ...lines,
  ].join('\n');
}

/** "wall 1.23x, cpu 1.45x": `a` against `b`, in ops per second. */
export function ratio(rows, a, b) {
  const find = (n) => rows.find((r) => r.name.startsWith(n));
  const x = find(a);
  const y = find(b);
  return `wall ${(x.opsPerSec / y.opsPerSec).toFixed(2)}x, cpu ${(x.cpuOpsPerSec / y.cpuOpsPerSec).toFixed(2)}x`;
}
