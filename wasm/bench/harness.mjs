// Interleaved, time-boxed rounds: every candidate runs once per round, rounds alternate,
// and the median of the rounds is reported, so drift (thermal, GC, other processes on
// the machine) hits every candidate alike.

/** Runs `fn` (sync or async) for about `ms` milliseconds; returns ops per second. */
export async function timed(fn, ms) {
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  // Batches of 8 between clock reads keep the clock out of the measurement.
  do {
    for (let i = 0; i < 8; i++) await fn();
    n += 8;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return (n * 1e9) / Number(elapsed);
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
    const ops = median(results.get(c.name));
    return { name: c.name, opsPerSec: ops, usPerOp: 1e6 / ops };
  });
}

export function table(rows, baseline) {
  const base = rows.find((r) => r.name === baseline);
  const lines = rows.map((r) => {
    const ratio = base ? (r.opsPerSec / base.opsPerSec).toFixed(2) + 'x' : '';
    return `${r.name.padEnd(44)} ${r.usPerOp.toFixed(1).padStart(9)} us/op ${Math.round(r.opsPerSec).toString().padStart(8)} ops/s ${ratio.padStart(7)}`;
  });
  return [`${'candidate'.padEnd(44)} ${'time'.padStart(15)} ${'rate'.padStart(14)} vs ${baseline}`, ...lines].join('\n');
}
