/**
 * Engine kinds by name: a config's `kind:` picks the factory, the option schema checks
 * the rest. Adding an engine is one folder and one line here (docs/adding-an-engine.md).
 */
import { z } from 'zod';
import type { Engine } from './engine.js';
import { gpuPresetNames } from './sim/hardware.js';

const llamaCppOptions = z.strictObject({
  kind: z.literal('llama-cpp'),
  /** A GGUF file; relative paths resolve against the config file's folder. */
  model: z.string().min(1),
  contextSize: z.number().int().min(64).optional(),
  parallel: z.number().int().min(1).max(256).optional(),
  threads: z.number().int().min(1).optional(),
  gpu: z.union([z.literal('auto'), z.literal(false)]).optional(),
  batchSize: z.number().int().min(1).optional(),
  flashAttention: z.union([z.literal('auto'), z.boolean()]).optional(),
});

const openAICompatibleOptions = z.strictObject({
  kind: z.literal('openai-compatible'),
  baseUrl: z.url({ protocol: /^https?$/ }),
  apiKey: z.string().optional(),
  /** Name of an environment variable holding the key, so configs can be committed. */
  apiKeyEnv: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  maxConnections: z.number().int().min(1).optional(),
  connectTimeoutMs: z.number().int().min(1).optional(),
  firstByteTimeoutMs: z.number().int().min(1).optional(),
  idleTimeoutMs: z.number().int().min(1).optional(),
  /** Requests the server runs at once (vLLM's max_num_seqs); default maxConnections. */
  slots: z.number().int().min(1).max(65_536).optional(),
  /** Scrape vLLM/SGLang Prometheus metrics for the server's own load (docs/engines.md). */
  loadMetrics: z
    .union([
      z.boolean(),
      z.url({ protocol: /^https?$/ }),
      z.strictObject({ url: z.url({ protocol: /^https?$/ }).optional(), intervalMs: z.number().int().min(100).max(60_000).optional() }),
    ])
    .optional(),
  /** Send each request's `priority` (vLLM run with --scheduling-policy priority; docs/engines.md). */
  sendPriority: z.boolean().optional(),
});

/** An upstream speaking Anthropic's Messages API (Anthropic, Ark's and others' Anthropic-compatible endpoints). */
const anthropicOptions = z.strictObject({
  kind: z.literal('anthropic'),
  baseUrl: z.url({ protocol: /^https?$/ }),
  apiKey: z.string().optional(),
  apiKeyEnv: z.string().optional(),
  /** anthropic-version sent when the client sent none (default 2023-06-01). */
  anthropicVersion: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  maxConnections: z.number().int().min(1).optional(),
  connectTimeoutMs: z.number().int().min(1).optional(),
  firstByteTimeoutMs: z.number().int().min(1).optional(),
  idleTimeoutMs: z.number().int().min(1).optional(),
});

/** A simulated GPU for load tests (docs/engines.md): timings only, filler text. */
const simOptions = z.strictObject({
  kind: z.literal('sim'),
  preset: z.enum(gpuPresetNames).optional(),
  slots: z.number().int().min(1).max(4096).optional(),
  kvTokens: z.number().int().min(1024).optional(),
  tokenBudget: z.number().int().min(16).optional(),
  /** Real ms per simulated ms: 1 = real time, 0.1 = ten times faster. */
  timeScale: z.number().positive().max(100).optional(),
  answerTokens: z.number().int().min(1).max(32_768).optional(),
  /** vLLM's --scheduling-policy: 'priority' serves each request's `priority` (its tier) first. */
  schedulingPolicy: z.enum(['fcfs', 'priority']).optional(),
  /** vLLM's --long-prefill-token-threshold: most prompt tokens one sequence computes per step. */
  longPrefillTokenThreshold: z.number().int().min(1).optional(),
  /** Priority policy only, not a vLLM option: prompt tokens per step for priority ≥ fromPriority (batch = 3). */
  backgroundPrefill: z.strictObject({ fromPriority: z.number().int(), tokensPerStep: z.number().int().min(1), exclusive: z.boolean().optional(), pauseDecodes: z.boolean().optional() }).optional(),
});

export const engineConfigSchema = z.discriminatedUnion('kind', [llamaCppOptions, openAICompatibleOptions, simOptions, anthropicOptions]);
export type EngineConfig = z.infer<typeof engineConfigSchema>;

export interface EngineFactoryContext {
  /** Resolves a path from the config against the config file's folder. */
  resolvePath(path: string): string;
  env: NodeJS.ProcessEnv;
}

/**
 * Each kind's code is imported only when a config names it: node-llama-cpp alone is ~36 MB
 * of a gateway's RSS, which a gateway serving only remote engines never needs.
 */
export async function createEngine(id: string, config: EngineConfig, context: EngineFactoryContext): Promise<Engine> {
  switch (config.kind) {
    case 'llama-cpp': {
      const { LlamaCppEngine } = await import('./llama-cpp/engine.js');
      const { kind: _kind, model, ...rest } = config;
      return new LlamaCppEngine({ id, modelPath: context.resolvePath(model), ...rest });
    }
    case 'openai-compatible': {
      const { OpenAICompatibleEngine } = await import('./openai-compatible/engine.js');
      const { kind: _kind, apiKeyEnv: _env, apiKey: _key, ...rest } = config;
      const key = upstreamKey(id, config, context.env);
      return new OpenAICompatibleEngine({ id, ...rest, ...(key === undefined ? {} : { apiKey: key }) });
    }
    case 'anthropic': {
      const { AnthropicEngine } = await import('./anthropic/engine.js');
      const { kind: _kind, apiKeyEnv: _env, apiKey: _key, ...rest } = config;
      const key = upstreamKey(id, config, context.env);
      return new AnthropicEngine({ id, ...rest, ...(key === undefined ? {} : { apiKey: key }) });
    }
    case 'sim': {
      const { SimEngine } = await import('./sim/engine.js');
      const { kind: _kind, ...rest } = config;
      return new SimEngine({ id, ...rest });
    }
  }
}

/** A remote engine's key: given in the config, or read from the environment variable it names. */
function upstreamKey(id: string, config: { apiKey?: string | undefined; apiKeyEnv?: string | undefined }, env: NodeJS.ProcessEnv): string | undefined {
  const key = config.apiKey ?? (config.apiKeyEnv ? env[config.apiKeyEnv] : undefined);
  if (config.apiKeyEnv && key === undefined) {
    throw new Error(`engines.${id}.apiKeyEnv names ${config.apiKeyEnv}, which is not set in the environment.`);
  }
  return key;
}
