/**
 * `skylark serve` as a separate process on the tiny model: for tests that must kill a
 * gateway (-9) or run two of them side by side.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, type CliProcess } from './cli-process.js';
import { tinyModelConfig } from './platform.js';

export const servedAdminKey = 'sk-served-admin-key-0123456789';

export interface Served {
  url: string;
  proc: CliProcess;
}

/** Starts a gateway on `dataDir` (and DATABASE_URL/REDIS_URL from env) and waits until its model is ready. */
export async function serveTiny(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  engine: { parallel?: number; contextSize?: number } = {},
  /** More of the YAML config (e.g. `batches:`). */
  extra: Record<string, unknown> = {},
): Promise<Served> {
  const config = join(dataDir, 'skylark.yaml');
  await writeFile(config, stringify({ server: { shutdownGraceMs: 1000 }, ...tinyModelConfig({ parallel: 8, contextSize: 4096, ...engine }), ...extra }));
  const proc = runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--config', config], {
    SKYLARK_ADMIN_KEY: servedAdminKey,
    ...env,
  });
  const url = await proc.listening;
  for (let i = 0; i < 400; i++) {
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    if (response?.status === 200) return { url, proc };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  proc.child.kill('SIGKILL');
  throw new Error(`the gateway never became ready:\n${proc.stderr()}`);
}
