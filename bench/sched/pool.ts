/** Runs simulations on worker threads (one per core): runs are independent and CPU-bound. */
import { Worker } from 'node:worker_threads';
import type { RunMetrics } from './metrics.js';
import type { Job } from './simulation.js';

type Reply = { ok: true; metrics: RunMetrics } | { ok: false; error: string };

export async function runJobs(jobs: readonly Job[], threads: number, onProgress?: (done: number, total: number) => void): Promise<RunMetrics[]> {
  const results: RunMetrics[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(threads, jobs.length)) }, () => new Worker(new URL('./worker.js', import.meta.url)));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const send = (): void => {
              if (next >= jobs.length) return resolve();
              current = next++;
              worker.postMessage(jobs[current]);
            };
            worker.on('message', (reply: Reply) => {
              if (!reply.ok) return reject(new Error(`simulation ${JSON.stringify(jobs[current])} failed:\n${reply.error}`));
              results[current] = reply.metrics;
              onProgress?.(++done, jobs.length);
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return results;
}
