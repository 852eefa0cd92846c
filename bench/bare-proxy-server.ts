/**
 * The floor for bench:gateway's billing table: a Fastify route that forwards the JSON body
 * to the upstream with an undici Pool and returns its answer — HTTP in, HTTP out, nothing
 * else (no auth, limits, scheduler, metering or ledger). What it adds over `direct` is what
 * any Node.js gateway built on the same two libraries pays on this machine before doing
 * any work of its own. Prints "bare proxy listening on URL" on stderr.
 */
import Fastify from 'fastify';
import { Pool } from 'undici';

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:1/v1');
const pool = new Pool(upstream.origin, { connections: 64 });
const app = Fastify();
app.post('/v1/chat/completions', async (request) => {
  const response = await pool.request({
    path: `${upstream.pathname.replace(/\/$/, '')}/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(request.body as object), model: 'fake-ok' }),
  });
  return response.body.json();
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`bare proxy listening on ${url}\n`);
const stop = () => void Promise.all([app.close(), pool.close()]).then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
