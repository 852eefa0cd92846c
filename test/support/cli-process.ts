import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export interface CliProcess {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the base URL once the server prints it. */
  listening: Promise<string>;
}

/** Runs the built CLI (`npm test` builds dist/ first), as a user would. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  if (!existsSync(join(repoRoot, 'dist/src/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it) before the CLI tests');
  }
  const child = spawn(process.execPath, [join(repoRoot, 'bin/skylark.js'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, SKYLARK_ADMIN_KEY: '', SKYLARK_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  const listening = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => {
      stderr += data.toString();
      const match = /listening on (http:\/\/\S+?) /.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.stdout!.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${stderr}\n${stdout}`)));
  });
  listening.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr + stdout, exited, listening };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `skylark ARGS` to the end. stdout and stderr apart: --json output must be clean. */
export function runCliToEnd(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  if (!existsSync(join(repoRoot, 'dist/src/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it) before the CLI tests');
  }
  const child = spawn(process.execPath, [join(repoRoot, 'bin/skylark.js'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, SKYLARK_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
