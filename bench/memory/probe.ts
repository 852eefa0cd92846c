/**
 * Loaded into a gateway with `node --import …/probe.js`: on SIGUSR2 it writes the process's
 * memory breakdown (process.memoryUsage(), V8's heap spaces, VmRSS/VmHWM) as one JSON line
 * to $SKYLARK_PROBE_OUT, and a heap snapshot beside it when $SKYLARK_PROBE_SNAPSHOT is set.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';

const out = process.env.SKYLARK_PROBE_OUT;
let taken = 0;

function vm(field: string): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
}

if (out) {
  process.on('SIGUSR2', () => {
    const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
    const usage = process.memoryUsage();
    const spaces = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((space) => [space.space_name, { size: mb(space.space_size), used: mb(space.space_used_size) }]),
    );
    const line = {
      rss: mb(usage.rss),
      peak: Math.round(vm('VmHWM') * 10) / 10,
      heapTotal: mb(usage.heapTotal),
      heapUsed: mb(usage.heapUsed),
      external: mb(usage.external),
      arrayBuffers: mb(usage.arrayBuffers),
      spaces,
      snapshot: undefined as string | undefined,
    };
    if (process.env.SKYLARK_PROBE_SNAPSHOT) line.snapshot = v8.writeHeapSnapshot(`${out}.${++taken}.heapsnapshot`);
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  });
}
