/**
 * Child processes for the benchmarks: pinned to a core (so the gateway's CPU is not shared
 * with the load generator), CPU time read from /proc, readiness polled over HTTP.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** CPUs this process may run on (a container's cpuset need not start at 0). */
function allowedCpus(): number[] {
  try {
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    return list.split(',').flatMap((range) => {
      const [from, to = from] = range.split('-').map(Number);
      return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
    });
  } catch {
    return [];
  }
}

const cpus = allowedCpus();
// Pinning needs taskset and two CPUs; "core 0/1" below mean the first two CPUs allowed.
const tasksetPath = cpus.length >= 2 ? ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path)) : undefined;
let warnedNoTaskset = false;

/** Whether processes get pinned; without taskset they float over all cores and the report says so. */
export const canPin = tasksetPath !== undefined;

function warnNoPinning(): void {
  if (warnedNoTaskset) return;
  warnedNoTaskset = true;
  process.stderr.write('cannot pin (no taskset or fewer than 2 CPUs): processes float over all cores; CPU figures still hold, throughput is noisier\n');
}

/** Pin this (the load-generating) process to one core. */
export function pinSelf(core: number): void {
  if (!tasksetPath) return warnNoPinning();
  try {
    execFileSync(tasksetPath, ['-a', '-p', '-c', String(cpus[core]), String(process.pid)], { stdio: 'ignore' });
  } catch {
    warnNoPinning();
  }
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Everything the child wrote to stderr so far (for readiness lines and failure reports). */
  stderr(): string;
  stop(): Promise<void>;
}

/** How many cores the benchmarks can pin to (each of 0…n-1 is a valid `core`). */
export const pinnableCores = tasksetPath === undefined ? 0 : cpus.length;

interface SpawnOptions {
  core?: number;
  env?: NodeJS.ProcessEnv;
  /** A file descriptor for the child's stdout (default: discarded). */
  stdout?: number;
}

/** Start `node args…` on `core` (taskset execs node, so the pid is node's own). */
export function spawnNode(args: string[], options: SpawnOptions): Spawned {
  return spawnPinned(process.execPath, args, options);
}

/** Start any program on `core` (nginx in bench:peers); as with spawnNode, the pid is the program's own. */
export function spawnPinned(program: string, args: string[], options: SpawnOptions): Spawned {
  const pin = options.core !== undefined && tasksetPath !== undefined;
  if (options.core !== undefined && !pin) warnNoPinning();
  const [command, argv] = pin
    ? [tasksetPath!, ['-c', String(cpus[options.core!]), program, ...args]]
    : [program, args];
  const child: ChildProcess = spawn(command, argv, {
    env: options.env ?? process.env,
    stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (err.length < 65536) err += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Wait until `pattern` appears on the child's stderr; returns the first capture group. */
export async function waitForLine(proc: Spawned, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(proc.stderr());
    if (match) return match[1] ?? match[0];
    if (proc.child.exitCode !== null) throw new Error(`child exited (${proc.child.exitCode}) before ready:\n${proc.stderr()}`);
    if (Date.now() > deadline) throw new Error(`child not ready after ${timeoutMs} ms:\n${proc.stderr()}`);
    await sleep(20);
  }
}

/** Poll `url` until it answers 200. */
export async function waitForOk(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(50);
  }
}

let ticksPerSecond: number | undefined;

/** User + system CPU time of a process (all its threads: JS, GC, libuv pool), in ms; NaN off Linux. */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    ticksPerSecond ??= clockTicks();
    return (ticks * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU time of this process (the load generator), in ms. */
export function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * CPU time all processes on the machine spent busy (user, nice, system, irq, softirq, steal),
 * in ms; NaN off Linux. Minus the benchmark's own processes it shows how much other work
 * (a build, another test run) shared the cores while a row was measured.
 */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    ticksPerSecond ??= clockTicks();
    return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size now and at its peak (VmRSS, VmHWM), in MB; NaN off Linux. */
export function rssMb(pid: number): { now: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { now: Number.NaN, peak: Number.NaN };
  }
}
