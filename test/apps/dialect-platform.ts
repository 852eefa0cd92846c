/**
 * The web app's tests run the whole platform on each store: SQLite in its data dir, and a
 * fresh database on the run's PostgreSQL (DATABASE_URL), as a replica would use it.
 */
import { inject } from 'vitest';
import '../store/provided-context.js';
import { createDatabase, postgresUrlKey } from '../support/postgres.js';
import { startTestPlatform, tinyModelConfig, type TestPlatform } from '../support/platform.js';

export type PlatformDialect = 'sqlite' | 'postgres';
export const platformDialects: PlatformDialect[] = ['sqlite', 'postgres'];

export async function startDialectPlatform(
  dialect: PlatformDialect,
  env: NodeJS.ProcessEnv = {},
  config: Record<string, unknown> = tinyModelConfig({ parallel: 4, contextSize: 4096 }),
): Promise<TestPlatform> {
  if (dialect === 'sqlite') return startTestPlatform(config, { env });
  const server = inject(postgresUrlKey as 'skylarkPostgresUrl');
  if (!server) throw new Error('the vitest global setup provides no PostgreSQL (test/global-setup.ts)');
  return startTestPlatform(config, { env: { ...env, DATABASE_URL: await createDatabase(server) } });
}
