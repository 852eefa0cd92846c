/**
 * A fake vLLM server on 127.0.0.1: answers chat completions at once (counting them) and
 * serves /metrics in vLLM's Prometheus names with whatever load the test sets, as a real
 * vLLM shows the requests other clients send it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeVllmLoad {
  running: number;
  waiting: number;
  /** 0..1 */
  kvUsage: number;
  /** Answer /metrics with this status instead (a broken exporter). */
  metricsStatus?: number;
}

export interface FakeVllm {
  url: string;
  load: FakeVllmLoad;
  /** Chat completions answered so far. */
  served(): number;
  metricsScrapes(): number;
  close(): Promise<void>;
}

export function vllmMetricsText(load: FakeVllmLoad, model = 'fake-model'): string {
  const labels = `engine="0",model_name="${model}"`;
  return [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{${labels}} ${load.running.toFixed(1)}`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{${labels}} ${load.waiting.toFixed(1)}`,
    '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{${labels}} ${load.kvUsage}`,
    '# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig',
    '# TYPE vllm:cache_config_info gauge',
    `vllm:cache_config_info{block_size="16",cache_dtype="auto",engine="0",num_gpu_blocks="4096"} 1.0`,
    '',
  ].join('\n');
}

export async function startFakeVllm(initial: Partial<FakeVllmLoad> = {}): Promise<FakeVllm> {
  const load: FakeVllmLoad = { running: 0, waiting: 0, kvUsage: 0, ...initial };
  let served = 0;
  let scrapes = 0;
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      scrapes++;
      if (load.metricsStatus !== undefined) {
        response.writeHead(load.metricsStatus).end('exporter broken');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(vllmMetricsText(load));
      return;
    }
    request.resume();
    request.on('end', () => {
      served++;
      const body = {
        id: `chatcmpl-${served}`,
        object: 'chat.completion',
        created: 1,
        model: 'fake-model',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    load,
    served: () => served,
    metricsScrapes: () => scrapes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
