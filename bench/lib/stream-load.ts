/**
 * Streaming load: `connections` loops, each sending one SSE request after another on a
 * keep-alive undici Pool and timing, from the moment the request is dispatched, the first
 * `data:` event that carries content (TTFT), the `data: [DONE]` event and the end of the
 * response. The raw dispatch API hands body chunks over as they arrive, with no stream or
 * async-iterator layers adding their own delay to what is measured.
 */
import { Pool } from 'undici';
import type { LoadResult, LoadTarget } from './json-load.js';
import { Samples } from './stats.js';

interface Timing {
  ok: boolean;
  ttft: number;
  done: number;
  end: number;
}

/** Whether one SSE event is a chunk with non-empty text (chat delta or completion text). */
function hasContent(event: string): boolean {
  if (!event.startsWith('data: {')) return false;
  try {
    const parsed = JSON.parse(event.slice(6)) as { choices?: { delta?: { content?: unknown }; text?: unknown }[] };
    const choice = parsed.choices?.[0];
    const text = choice?.delta?.content ?? choice?.text;
    return typeof text === 'string' && text !== '';
  } catch {
    return false;
  }
}

function once(pool: Pool, target: LoadTarget): Promise<Timing> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - start) / 1e6;
    const timing: Timing = { ok: false, ttft: Number.NaN, done: Number.NaN, end: Number.NaN };
    let pending = ''; // text not yet split into whole events (only until the first content)
    let tail = ''; // last bytes seen, so a [DONE] split across chunks is still found
    pool.dispatch(
      { path: target.path, method: 'POST', headers: target.headers, body: target.body },
      {
        // Its presence is what tells undici this is a new-style (controller) handler.
        onRequestStart: () => {},
        onResponseStart: (_controller, status) => {
          timing.ok = status === 200;
        },
        onResponseData: (_controller, chunk) => {
          const text = chunk.toString('utf8');
          if (Number.isNaN(timing.ttft)) {
            pending += text;
            let cut: number;
            while ((cut = pending.indexOf('\n\n')) >= 0) {
              const event = pending.slice(0, cut);
              pending = pending.slice(cut + 2);
              if (hasContent(event)) {
                timing.ttft = since();
                break;
              }
            }
          }
          if (Number.isNaN(timing.done) && (tail + text).includes('data: [DONE]')) timing.done = since();
          tail = text.slice(-16);
        },
        onResponseEnd: () => {
          timing.end = since();
          timing.ok &&= !Number.isNaN(timing.ttft) && !Number.isNaN(timing.done);
          resolve(timing);
        },
        onResponseError: () => resolve({ ...timing, ok: false }),
      },
    );
  });
}

export async function streamLoad(target: LoadTarget, connections: number, seconds: number): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const result: LoadResult = { ok: 0, failed: 0, sent: 0, seconds, latency: new Samples(), ttft: new Samples(), done: new Samples() };
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const loop = async () => {
    while (process.hrtime.bigint() < deadline) {
      const timing = await once(pool, target);
      if (!timing.ok) {
        result.failed++;
        continue;
      }
      result.ok++;
      result.latency.add(timing.end);
      result.ttft!.add(timing.ttft);
      result.done!.add(timing.done);
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  result.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  result.sent = result.ok + result.failed; // each loop awaits its request: none is left in flight
  await pool.close();
  return result;
}
