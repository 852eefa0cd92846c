/**
 * Non-streaming load with autocannon (in process, on the load core). autocannon's own
 * latency histogram has 1 ms resolution, too coarse for sub-millisecond overheads, so the
 * per-response times (float ms from hrtime) are recorded here instead.
 */
import autocannon from 'autocannon';
import { Samples } from './stats.js';

export interface LoadTarget {
  /** Origin, e.g. http://127.0.0.1:8080 */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  ok: number;
  failed: number;
  /** Requests written, answered or not (autocannon drops those in flight when time is up). */
  sent: number;
  seconds: number;
  latency: Samples;
  /** Streaming only: first content chunk and the `data: [DONE]` event. */
  ttft?: Samples;
  done?: Samples;
}

/** `rate`: requests per second across all connections (open-loop pacing); omitted, as fast as they answer. */
export async function jsonLoad(target: LoadTarget, connections: number, seconds: number, rate?: number): Promise<LoadResult> {
  const latency = new Samples();
  let ok = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  const instance = autocannon({
    url: target.origin + target.path,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    connections,
    duration: seconds,
    timeout: 10,
    ...(rate === undefined ? {} : { overallRate: rate }),
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) {
      ok++;
      latency.add(ms);
    } else failed++;
  });
  const result = await instance;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return { ok, failed: failed + result.errors, sent: result.requests.sent, seconds: elapsed, latency };
}
