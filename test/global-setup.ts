import { mkdir } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { writeTinyModel } from '../src/engines/gguf/tiny-model.js';
import { testDataDir, tinyModelPath } from './support/paths.js';
import { providePostgres } from './support/postgres.js';
import { provideRedis } from './support/redis.js';

/**
 * Once per run: the tiny model every engine test loads, and one real PostgreSQL and Redis
 * server (each test file gets its own database). Missing binaries fail the run, never skip.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await mkdir(testDataDir, { recursive: true });
  await writeTinyModel(tinyModelPath);
  const stopPostgres = await providePostgres(project);
  const stopRedis = await provideRedis(project);
  return async () => {
    await stopRedis();
    await stopPostgres();
  };
}
