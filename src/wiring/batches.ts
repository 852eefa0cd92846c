/** The Files and Batch APIs of one gateway process, and its batch runner. */
import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock } from '../core/clock.js';
import { BatchRunner } from '../batch/batch-runner.js';
import { BatchStages } from '../batch/batch-stages.js';
import { BatchService } from '../batch/batches.js';
import { DirectoryFileStorage } from '../batch/file-storage.js';
import { FileService } from '../batch/files.js';
import type { SkylarkConfig } from '../config/config-schema.js';
import type { GatewayDeps } from '../gateway/request-context.js';
import type { Store } from '../store/database.js';

export function openBatches(store: Store, gateway: GatewayDeps, dataDir: string, config: SkylarkConfig['batches'], logger: Logger) {
  const root = isAbsolute(config.filesDir) ? config.filesDir : join(dataDir, config.filesDir);
  const files = new FileService(store.db, new DirectoryFileStorage(root), systemClock, config.maxFileSize);
  const batches = new BatchService(store.db, files, systemClock);
  const runner = new BatchRunner(store.db, gateway, new BatchStages(store.db, files, systemClock), systemClock, {
    concurrency: config.concurrency,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
  }, logger);
  return { files, batches, runner };
}
