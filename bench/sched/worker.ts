/** A worker thread of bench:sched: runs the simulations it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { simulate, type Job } from './simulation.js';

parentPort!.on('message', (job: Job) => {
  try {
    parentPort!.postMessage({ ok: true, metrics: simulate(job) });
  } catch (error) {
    parentPort!.postMessage({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
