import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

/** One line naming the machine, so printed figures can be compared with the docs. */
export function describeMachine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // Not Linux: os.cpus() already named it.
  }
  const date = new Date().toISOString().slice(0, 10);
  return `${availableParallelism()} cores, ${model}, Node ${process.version}, ${date}`;
}
