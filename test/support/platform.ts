import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { startPlatform, type Platform } from '../../src/main.js';
import { tinyModelPath } from './paths.js';

export const testAdminKey = 'sk-test-admin-key-0123456789';

export interface TestPlatform {
  platform: Platform;
  url: string;
  baseURL: string;
  client: OpenAI;
  /** Its data directory and YAML config, for CLI commands run beside it. */
  dataDir: string;
  configPath: string;
  /** fetch against the server with the admin key. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** The tiny model served by llama.cpp in process, as the default demo does. */
export function tinyModelConfig(overrides: { parallel?: number; contextSize?: number } = {}): Record<string, unknown> {
  return {
    engines: { local: { kind: 'llama-cpp', model: tinyModelPath, threads: 1, ...overrides } },
    models: [
      {
        id: 'skylark-tiny',
        engine: 'local',
        family: 'skylark',
        tier: 'lite',
        capabilities: ['chat', 'completions', 'embeddings', 'tools', 'json_schema'],
      },
    ],
  };
}

/**
 * The tiny model plus `sim-one`, a simulated replica with one slot: a second request to it
 * must wait its turn, so queues have depth to show.
 */
export function tinyWithOneSlotSim(
  tiny: { parallel: number; contextSize: number },
  sim: { answerTokens: number; timeScale: number },
): Record<string, unknown> {
  const config = tinyModelConfig(tiny) as { engines: object; models: object[] };
  return {
    engines: { ...config.engines, sim: { kind: 'sim', slots: 1, ...sim } },
    models: [...config.models, { id: 'sim-one', engine: 'sim', capabilities: ['chat'] }],
  };
}

/** A real Skylark process-in-process on an ephemeral port, over real HTTP. */
export async function startTestPlatform(config: Record<string, unknown>, options: { env?: NodeJS.ProcessEnv } = {}): Promise<TestPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skylark-test-'));
  const configPath = join(dataDir, 'skylark.yaml');
  await writeFile(configPath, stringify({ server: { shutdownGraceMs: 2000 }, ...config }));
  const platform = await startPlatform({
    dataDir,
    configPath,
    host: '127.0.0.1',
    port: 0,
    // env: e.g. DATABASE_URL, to run the same platform on PostgreSQL.
    env: { SKYLARK_ADMIN_KEY: testAdminKey, ...options.env },
    logger: pino({ level: 'silent' }),
  });
  await platform.enginesLoaded;
  const baseURL = `${platform.url}/v1`;
  return {
    platform,
    dataDir,
    configPath,
    url: platform.url,
    baseURL,
    client: new OpenAI({ baseURL, apiKey: testAdminKey, maxRetries: 0, timeout: 30_000 }),
    request: (path, init = {}) =>
      fetch(`${platform.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json', ...init.headers },
      }),
    close: async () => {
      await platform.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
