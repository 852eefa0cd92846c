import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const testDataDir = join(repoRoot, '.test-data');
/** Written once per run by test/global-setup.ts. */
export const tinyModelPath = join(testDataDir, 'skylark-tiny.gguf');
