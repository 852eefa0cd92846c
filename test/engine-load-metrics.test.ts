import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeVllm, type FakeVllm } from './support/fake-vllm.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/**
 * Two vLLM replicas of one model, each scraped for its own load. Traffic Skylark did not
 * send (another gateway, a batch job) shows only in the engines' metrics; the scheduler
 * must see it there.
 */
let a: FakeVllm;
let b: FakeVllm;
let sky: TestPlatform;

const engine = (server: FakeVllm) => ({
  kind: 'openai-compatible',
  baseUrl: server.url,
  slots: 4,
  loadMetrics: { intervalMs: 100 },
});

interface EngineView {
  id: string;
  capacity: { slots: number; busy: number; kvTokens?: number; kvUsed?: number; reported: { running: number | null; waiting: number | null; ageMs: number | null; stale: boolean; lastError: string | null; source: string } };
}

async function engines(): Promise<Record<string, EngineView>> {
  const body = (await (await sky.request('/admin/engines')).json()) as { data: EngineView[] };
  return Object.fromEntries(body.data.map((view) => [view.id, view]));
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Distinct prompts, one after another, so prefix affinity has nothing to prefer. */
async function send(count: number, tag: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    await sky.client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: `${tag} ${i}` }] });
  }
}

beforeAll(async () => {
  a = await startFakeVllm();
  b = await startFakeVllm();
  sky = await startTestPlatform({
    engines: { a: engine(a), b: engine(b) },
    models: [{ id: 'llama', engine: ['a', 'b'], upstreamModel: 'fake-model', capabilities: ['chat'] }],
  });
});

afterAll(async () => {
  await sky?.close();
  await a?.close();
  await b?.close();
});

describe("engine load read from the engines' own metrics", () => {
  it('shows each scrape with its age, and counts requests Skylark did not send', async () => {
    a.load.running = 3;
    a.load.waiting = 2;
    a.load.kvUsage = 0.5;
    await until(async () => (await engines()).a!.capacity.reported.running === 3, 'the first scrape');
    const view = (await engines()).a!.capacity;
    expect(view.reported.source).toBe(a.url.replace('/v1', '/metrics'));
    expect(view.reported.stale).toBe(false);
    expect(view.reported.ageMs).not.toBeNull();
    expect(view.reported.waiting).toBe(2);
    // Nothing of ours runs: all five are someone else's, so the replica is busier than its slots.
    expect(view.busy).toBe(5);
    expect(view.kvTokens).toBe(4096 * 16);
    expect(view.kvUsed).toBe(4096 * 16 * 0.5);
  });

  it('routes around a replica that other traffic has filled, and back when it drains', async () => {
    a.load.running = 4;
    a.load.waiting = 3;
    b.load.running = 0;
    b.load.waiting = 0;
    await until(async () => (await engines()).a!.capacity.busy >= 4 && (await engines()).b!.capacity.busy === 0, 'a full, b empty');
    const [servedA, servedB] = [a.served(), b.served()];
    await send(8, 'first');
    expect(a.served() - servedA).toBe(0);
    expect(b.served() - servedB).toBe(8);

    a.load.running = 0;
    a.load.waiting = 0;
    b.load.running = 4;
    await until(async () => (await engines()).a!.capacity.busy === 0 && (await engines()).b!.capacity.busy >= 4, 'b full, a empty');
    const [againA, againB] = [a.served(), b.served()];
    await send(8, 'second');
    expect(a.served() - againA).toBe(8);
    expect(b.served() - againB).toBe(0);
  });

  it('holds a request while every replica is full of others’ work, and starts it once one drains', async () => {
    a.load.running = 4;
    b.load.running = 4;
    await until(async () => (await engines()).a!.capacity.busy >= 4 && (await engines()).b!.capacity.busy >= 4, 'both full');
    const before = a.served() + b.served();
    let done = false;
    const request = send(1, 'waiting').then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(done).toBe(false);
    expect(a.served() + b.served()).toBe(before);
    b.load.running = 0;
    await request;
    expect(b.served() + a.served()).toBe(before + 1);
  });

  it('stops trusting a stale reading and says why', async () => {
    a.load.running = 4;
    a.load.metricsStatus = 500;
    await until(async () => (await engines()).a!.capacity.reported.lastError === 'HTTP 500', 'the failed scrape');
    // Until the reading is 3 s old it still counts; then only Skylark's own count does.
    await until(async () => (await engines()).a!.capacity.reported.stale, 'the reading to go stale');
    const view = (await engines()).a!.capacity;
    expect(view.busy).toBe(0);
    expect(view.reported.running).toBe(4);
    delete a.load.metricsStatus;
  });
});
