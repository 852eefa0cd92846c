/**
 * Open-loop load at a constant rate: one request every 1/rate seconds, sent whether or not
 * earlier ones have answered (as wrk2 does), over an undici Pool wide enough that no request
 * ever waits for a connection. autocannon's `overallRate` is not this: it lets each connection
 * send its share of a second's requests back to back and then pauses until the next second,
 * so "1,000 req/s" arrives as a burst at full concurrency followed by silence.
 *
 * Node timers fire at ≥ 1 ms, so each tick sends every request whose time has come; how late
 * a request left its schedule is reported (`lateness`) so a busy load generator shows up
 * instead of hiding in the figures. Latency runs from the moment a request is dispatched to
 * the end of its response.
 */
import { Pool } from 'undici';
import type { LoadResult, LoadTarget } from './json-load.js';
import { Samples } from './stats.js';

export interface PacedResult extends LoadResult {
  /** ms between each request's scheduled time and its dispatch. */
  lateness: Samples;
  /** Most requests in flight at once. */
  maxInFlight: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

export async function pacedLoad(target: LoadTarget, rate: number, seconds: number, connections = 256): Promise<PacedResult> {
  const pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const result: PacedResult = { ok: 0, failed: 0, sent: 0, seconds, latency: new Samples(), lateness: new Samples(), maxInFlight: 0 };
  const interval = 1000 / rate;
  const total = Math.round(rate * seconds);
  let sent = 0;
  let inFlight = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));

  const send = () => {
    const start = now();
    inFlight++;
    result.maxInFlight = Math.max(result.maxInFlight, inFlight);
    let ok = false;
    const end = (good: boolean) => {
      inFlight--;
      if (good) {
        result.ok++;
        result.latency.add(now() - start);
      } else result.failed++;
      if (sent === total && inFlight === 0) finished();
    };
    pool.dispatch(
      { path: target.path, method: 'POST', headers: target.headers, body: target.body },
      {
        onRequestStart: () => {},
        onResponseStart: (_controller, status) => {
          ok = status >= 200 && status < 300;
        },
        onResponseData: () => {},
        onResponseEnd: () => end(ok),
        onResponseError: () => end(false),
      },
    );
  };

  const began = now();
  const tick = () => {
    const current = now();
    while (sent < total && began + sent * interval <= current) {
      result.lateness.add(current - (began + sent * interval));
      sent++;
      send();
    }
    if (sent < total) setTimeout(tick, Math.max(0, began + sent * interval - now()));
  };
  tick();
  await allDone;
  result.sent = sent;
  result.seconds = (now() - began) / 1000;
  await pool.close();
  return result;
}
