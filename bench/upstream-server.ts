/**
 * The fake OpenAI-compatible upstream as its own process, so the benchmark can pin it to a
 * core and keep its CPU apart from the gateway's. Prints "upstream listening on URL" on
 * stderr and serves until SIGTERM.
 */
import { startFakeUpstream } from '../test/support/fake-upstream.js';

const upstream = await startFakeUpstream({ maxRecorded: 0 });
process.stderr.write(`upstream listening on ${upstream.url}\n`);
const stop = () => void upstream.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
