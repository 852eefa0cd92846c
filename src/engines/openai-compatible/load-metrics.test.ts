import { describe, expect, it } from 'vitest';
import { parsePrometheusText, reportedLoad } from './load-metrics.js';

// Shapes as vLLM 0.10 and SGLang print them (labels, HELP/TYPE lines, exponents, two DP ranks).
const vllm = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
vllm:num_requests_running{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 2.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 4.0
vllm:num_requests_waiting{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.5
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.25
vllm:cache_config_info{block_size="16",cache_dtype="auto",engine="0",num_gpu_blocks="1000"} 1.0
vllm:cache_config_info{block_size="16",cache_dtype="auto",engine="1",num_gpu_blocks="1000"} 1.0
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1.0e+04
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 2500
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="m"} 12
`;

const sglang = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="Qwen/Qwen2.5-7B-Instruct"} 7.0
sglang:num_queue_reqs{model_name="Qwen/Qwen2.5-7B-Instruct"} 1.0
sglang:token_usage{model_name="Qwen/Qwen2.5-7B-Instruct"} 0.28
sglang:max_total_num_tokens{model_name="Qwen/Qwen2.5-7B-Instruct"} 400000
sglang:cache_hit_rate{model_name="Qwen/Qwen2.5-7B-Instruct"} 0.0075
`;

describe('engine load from Prometheus metrics', () => {
  it('parses names, labels, exponents and +Inf, and skips comments', () => {
    const metrics = parsePrometheusText(vllm);
    expect(metrics.get('vllm:num_requests_running')).toEqual([
      { labels: { engine: '0', model_name: 'meta-llama/Llama-3.1-8B-Instruct' }, value: 3 },
      { labels: { engine: '1', model_name: 'meta-llama/Llama-3.1-8B-Instruct' }, value: 2 },
    ]);
    expect(metrics.get('vllm:prefix_cache_queries_total')![0]!.value).toBe(10_000);
    expect(metrics.get('vllm:time_to_first_token_seconds_bucket')![0]!.labels.le).toBe('+Inf');
    expect(parsePrometheusText('garbage line\nok_metric 1\n')).toEqual(new Map([['ok_metric', [{ labels: {}, value: 1 }]]]));
  });

  it("reads vLLM's load: ranks summed, KV usage averaged, the KV budget from cache_config_info", () => {
    const load = reportedLoad(parsePrometheusText(vllm))!;
    expect(load).toMatchObject({ server: 'vllm', running: 5, waiting: 4, kvUsage: 0.375, kvTokens: 32_000 });
    // The hit rate is a rate: it needs two readings.
    expect(load.prefixCacheHitRate).toBeUndefined();
    const later = vllm
      .replace('vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1.0e+04', 'vllm:prefix_cache_queries_total{engine="0",model_name="m"} 12000')
      .replace('vllm:prefix_cache_hits_total{engine="0",model_name="m"} 2500', 'vllm:prefix_cache_hits_total{engine="0",model_name="m"} 4000');
    expect(reportedLoad(parsePrometheusText(later), load)!.prefixCacheHitRate).toBe(0.75);
  });

  it("reads vLLM's older gpu_cache_usage_perc and SGLang's names", () => {
    const old = reportedLoad(parsePrometheusText('vllm:num_requests_running 1\nvllm:gpu_cache_usage_perc 0.9\n'))!;
    expect(old).toMatchObject({ running: 1, waiting: 0, kvUsage: 0.9 });
    expect(reportedLoad(parsePrometheusText(sglang))).toEqual({
      server: 'sglang', running: 7, waiting: 1, kvUsage: 0.28, kvTokens: 400_000, prefixCacheHitRate: 0.0075,
    });
  });

  it('recognises neither in an unrelated exporter', () => {
    expect(reportedLoad(parsePrometheusText('process_cpu_seconds_total 12\n'))).toBeUndefined();
  });
});
