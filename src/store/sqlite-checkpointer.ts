/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever
 * commit pushes the WAL past 1,000 pages: that commit copies the pages into the database
 * file and fsyncs both, 3–15 ms on this machine, once every ~100 single-request
 * settlements — the p99 of a request whose response waits for its usage row. The serving
 * process turns the automatic checkpoint off and this worker thread, with its own
 * connection, runs a PASSIVE checkpoint every `intervalMs`: PASSIVE never waits for (nor
 * blocks) the writer, so commits on the main thread only ever append to the WAL.
 *
 * The worker is an eval'd CommonJS script rather than a file of its own, so it runs the
 * same from dist/ and from sources under the test runner; it is given the resolved path
 * of the driver.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage(String(error)); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Runs a last checkpoint and ends the thread. */
  stop(): Promise<void>;
}

/**
 * `onError` hears about a checkpoint that failed (it is retried on the next interval) and
 * about the thread dying; in that case `onDead` runs so the caller can turn SQLite's
 * automatic checkpoint back on rather than let the WAL grow without bound.
 */
export function startCheckpointer(
  path: string,
  options: { intervalMs?: number; onError?: (error: Error) => void; onDead?: () => void } = {},
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(workerSource, { eval: true, workerData: { path, driver, intervalMs: options.intervalMs ?? 1000 } });
  // A server that forgets to close its store must still be able to exit.
  worker.unref();
  let stopping = false;
  worker.on('message', (message: string) => options.onError?.(new Error(`WAL checkpoint failed: ${message}`)));
  worker.on('error', (error) => options.onError?.(error));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => {
    if (!stopping) options.onDead?.();
  });
  return {
    async stop() {
      stopping = true;
      worker.postMessage('stop');
      const timeout = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
