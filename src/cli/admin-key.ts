import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The operator's key: SKYLARK_ADMIN_KEY if set, else the one saved in DATA/admin.key,
 * else a new one written there with mode 0600 and reported once through onNew.
 */
export async function ensureAdminKey(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  onNew?: (key: string, path: string) => void,
): Promise<string> {
  const fromEnv = env.SKYLARK_ADMIN_KEY?.trim();
  if (fromEnv) return fromEnv;
  const path = join(dataDir, 'admin.key');
  try {
    const saved = (await readFile(path, 'utf8')).trim();
    if (saved) return saved;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = `sk-admin-${randomBytes(24).toString('base64url')}`;
  // 'wx' fails if another process created it first; then use theirs.
  try {
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
    throw error;
  }
  onNew?.(key, path);
  return key;
}
