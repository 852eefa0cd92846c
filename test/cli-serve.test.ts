import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from './support/cli-process.js';
import { sseData } from './support/sse.js';
import { tinyModelPath } from './support/paths.js';

const dirs: string[] = [];
const procs: CliProcess[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skylark-cli-'));
  dirs.push(dir);
  return dir;
}

function serve(args: string[], env?: NodeJS.ProcessEnv): CliProcess {
  const proc = runCli(['serve', '--port', '0', ...args], env);
  procs.push(proc);
  return proc;
}

afterEach(async () => {
  for (const proc of procs.splice(0)) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    if (response?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('never became ready');
}

describe('skylark serve', () => {
  it('on embedded defaults: generates the tiny model and an admin key shown once (0600), then serves it', async () => {
    const data = await tempDir();
    const first = serve(['--data', data]);
    const url = await first.listening;
    await waitReady(url);
    const key = (await readFile(join(data, 'admin.key'), 'utf8')).trim();
    expect(first.stderr()).toContain(key);
    expect((await stat(join(data, 'admin.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(data, 'models/skylark-tiny.gguf'))).size).toBeGreaterThan(100_000);

    const unauthorized = await fetch(`${url}/v1/models`);
    expect(unauthorized.status).toBe(401);
    const answer = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'skylark-tiny', messages: [{ role: 'user', content: 'Count: 7' }], temperature: 0 }),
    }).then((r) => r.json());
    expect(answer.choices[0].message.content).toBe('89.');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = serve(['--data', data]);
    await second.listening;
    expect(second.stderr()).not.toContain(key);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('on SIGTERM stops accepting, finishes the stream in flight, and exits 0', async () => {
    const data = await tempDir();
    const proc = serve(['--data', data], { SKYLARK_ADMIN_KEY: 'sk-cli-test' });
    const url = await proc.listening;
    await waitReady(url);
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-cli-test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'skylark-tiny', prompt: 'abc', temperature: 0, stream: true, max_tokens: 30 }),
    });
    const events = sseData(response);
    const first = await events.next();
    expect(first.done).toBe(false);
    proc.child.kill('SIGTERM');
    const rest: string[] = [];
    for await (const data of events) rest.push(data);
    expect(rest.at(-1)).toBe('[DONE]');
    const text = [first.value as string, ...rest.slice(0, -1)]
      .map((d) => JSON.parse(d).choices[0]?.text ?? '')
      .join('');
    expect(text).toBe('defghijklmnopqrstuvwxyz.');
    expect(await proc.exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('refuses a config with a bad key, naming the key and what it expected', async () => {
    const data = await tempDir();
    const config = join(data, 'bad.yaml');
    await writeFile(
      config,
      `engines:\n  local: { kind: llama-cpp, model: ${tinyModelPath}, parallel: "many" }\nmodels:\n  - { id: m, engine: local, colour: blue }\n`,
    );
    const proc = serve(['--data', data, '--config', config]);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(/engines\.local\.parallel: .*number/i);
    expect(proc.stderr()).toMatch(/models\[0\]\.colour: unknown key/);
  });

  it('stays up with a broken GGUF file: not ready, and requests get 503', async () => {
    const data = await tempDir();
    const broken = join(data, 'broken.gguf');
    await writeFile(broken, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(64, 1)]));
    const config = join(data, 'skylark.yaml');
    await writeFile(config, `engines:\n  local: { kind: llama-cpp, model: ${broken} }\nmodels:\n  - { id: m, engine: local }\n`);
    const proc = serve(['--data', data, '--config', config], { SKYLARK_ADMIN_KEY: 'sk-cli-test' });
    const url = await proc.listening;
    await expect
      .poll(async () => (await fetch(`${url}/readyz`).then((r) => r.json())).engines[0].state, { timeout: 10_000 })
      .toBe('failed');
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-cli-test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(response.status).toBe(503);
    expect((await response.json()).error.code).toBe('engine_unavailable');
    expect(proc.child.exitCode).toBeNull();
  });
});
