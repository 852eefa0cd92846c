/**
 * What a vLLM or SGLang server says about its own load, read from its Prometheus endpoint.
 * Skylark counts only the requests it sent; another gateway, a batch job or a client that
 * talks to the engine directly is invisible to that count, so the scheduler would
 * over-admit a replica that is already full. The engine's own gauges see everything.
 *
 * Names read (summed over label sets, so data-parallel ranks add up):
 *   vLLM   vllm:num_requests_running, vllm:num_requests_waiting, vllm:kv_cache_usage_perc
 *          (vllm:gpu_cache_usage_perc before v0.10), vllm:cache_config_info{num_gpu_blocks,
 *          block_size} for the KV budget, vllm:prefix_cache_queries_total /
 *          vllm:prefix_cache_hits_total for the prefix-cache hit rate between two scrapes.
 *   SGLang sglang:num_running_reqs, sglang:num_queue_reqs, sglang:token_usage,
 *          sglang:max_total_num_tokens, sglang:cache_hit_rate.
 */

export interface PrometheusSample {
  labels: Record<string, string>;
  value: number;
}

/** Metric name → its samples. Comments, HELP/TYPE lines and malformed lines are skipped. */
export function parsePrometheusText(text: string): Map<string, PrometheusSample[]> {
  const metrics = new Map<string, PrometheusSample[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!match) continue;
    const value = parseSampleValue(match[4]!);
    if (Number.isNaN(value)) continue;
    const samples = metrics.get(match[1]!) ?? [];
    samples.push({ labels: parseLabels(match[3] ?? ''), value });
    metrics.set(match[1]!, samples);
  }
  return metrics;
}

function parseSampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

/** The engine's own view of its load at one scrape. */
export interface EngineReportedLoad {
  /** Which server's names matched. */
  server: 'vllm' | 'sglang';
  running: number;
  waiting: number;
  /** KV cache in use, 0..1; absent when not reported. */
  kvUsage?: number;
  /** The KV budget in tokens, when the server reports it. */
  kvTokens?: number;
  /** Share of prompt tokens served from the prefix cache, 0..1, when known. */
  prefixCacheHitRate?: number;
  /** Cumulative prefix-cache counters (vLLM), kept to derive the rate at the next scrape. */
  prefixQueries?: number;
  prefixHits?: number;
}

const sum = (metrics: Map<string, PrometheusSample[]>, name: string): number | undefined => {
  const samples = metrics.get(name);
  return samples === undefined || samples.length === 0 ? undefined : samples.reduce((total, s) => total + s.value, 0);
};

/** Reads vLLM's or SGLang's names; undefined when the text has neither (not an inference server). */
export function reportedLoad(metrics: Map<string, PrometheusSample[]>, previous?: EngineReportedLoad): EngineReportedLoad | undefined {
  const vllmRunning = sum(metrics, 'vllm:num_requests_running');
  if (vllmRunning !== undefined) {
    const load: EngineReportedLoad = { server: 'vllm', running: vllmRunning, waiting: sum(metrics, 'vllm:num_requests_waiting') ?? 0 };
    const kv = averageOf(metrics, 'vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc');
    if (kv !== undefined) load.kvUsage = kv;
    const info = metrics.get('vllm:cache_config_info');
    if (info !== undefined) {
      const tokens = info.reduce((total, s) => total + Number(s.labels.num_gpu_blocks ?? NaN) * Number(s.labels.block_size ?? NaN), 0);
      if (Number.isFinite(tokens) && tokens > 0) load.kvTokens = tokens;
    }
    const queries = sum(metrics, 'vllm:prefix_cache_queries_total');
    const hits = sum(metrics, 'vllm:prefix_cache_hits_total');
    if (queries !== undefined && hits !== undefined) {
      load.prefixQueries = queries;
      load.prefixHits = hits;
      const dq = queries - (previous?.prefixQueries ?? 0);
      const dh = hits - (previous?.prefixHits ?? 0);
      if (previous?.prefixQueries !== undefined && dq > 0 && dh >= 0) load.prefixCacheHitRate = dh / dq;
    }
    return load;
  }
  const sglangRunning = sum(metrics, 'sglang:num_running_reqs');
  if (sglangRunning !== undefined) {
    const load: EngineReportedLoad = { server: 'sglang', running: sglangRunning, waiting: sum(metrics, 'sglang:num_queue_reqs') ?? 0 };
    const kv = averageOf(metrics, 'sglang:token_usage');
    if (kv !== undefined) load.kvUsage = kv;
    const kvTokens = sum(metrics, 'sglang:max_total_num_tokens');
    if (kvTokens !== undefined && kvTokens > 0) load.kvTokens = kvTokens;
    const hitRate = averageOf(metrics, 'sglang:cache_hit_rate');
    if (hitRate !== undefined) load.prefixCacheHitRate = hitRate;
    return load;
  }
  return undefined;
}

/** A ratio gauge reported per rank is averaged, not summed. */
function averageOf(metrics: Map<string, PrometheusSample[]>, ...names: string[]): number | undefined {
  for (const name of names) {
    const total = sum(metrics, name);
    if (total !== undefined) return total / metrics.get(name)!.length;
  }
  return undefined;
}
