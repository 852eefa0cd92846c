import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { microsFromDecimal } from '../core/money.js';
import { toParam } from '../contracts/parse.js';
import { configSchema, type SkylarkConfig } from './config-schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadedConfig {
  config: SkylarkConfig;
  /** Folder that relative paths in the config are resolved against. */
  baseDir: string;
}

/** The built-in default: the generated tiny model, served in process. */
export function defaultConfig(dataDir: string): LoadedConfig {
  return {
    baseDir: resolve(dataDir),
    config: configSchema.parse({
      engines: { local: { kind: 'llama-cpp', model: join('models', 'skylark-tiny.gguf') } },
      models: [
        {
          id: 'skylark-tiny',
          engine: 'local',
          family: 'skylark',
          tier: 'lite',
          capabilities: ['chat', 'completions', 'embeddings', 'tools', 'json_schema'],
        },
      ],
    }),
  };
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid YAML: ${(error as Error).message}`);
  }
  return { config: validateConfig(raw, path), baseDir: dirname(resolve(path)) };
}

export function validateConfig(raw: unknown, source: string): SkylarkConfig {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = toParam(issue.path) || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        const where = key === '(top level)' ? '' : `${key}.`;
        return `  ${issue.keys.map((k) => where + k).join(', ')}: unknown key`;
      }
      return `  ${key}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid config in ${source}:\n${problems.join('\n')}`);
  }
  const config = result.data;
  config.models.forEach((model, index) => {
    for (const engine of model.engine) {
      if (!config.engines[engine]) {
        throw new ConfigError(
          `Invalid config in ${source}:\n  models[${index}].engine: '${engine}' is not one of engines (${Object.keys(config.engines).join(', ') || 'none'})`,
        );
      }
    }
  });
  const ids = new Set<string>();
  for (const model of config.models) {
    if (ids.has(model.id)) throw new ConfigError(`Invalid config in ${source}:\n  models: '${model.id}' is listed twice`);
    ids.add(model.id);
  }
  for (const engine of Object.keys(config.costs.perHour)) {
    if (!config.engines[engine]) throw new ConfigError(`Invalid config in ${source}:\n  costs.perHour.${engine}: not one of engines`);
  }
  config.models.forEach((model, index) => {
    const unknown = model.fallbacks.find((fallback) => !ids.has(fallback) || fallback === model.id);
    if (unknown !== undefined) {
      throw new ConfigError(`Invalid config in ${source}:\n  models[${index}].fallbacks: '${unknown}' is not another model of this config`);
    }
  });
  return config;
}

export function resolveFrom(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** The config's `costs:` as the economics report takes them: engine id → micro-units per hour. */
export function replicaCostsOf(config: SkylarkConfig): { currency: string; perHourMicros: Record<string, number> } {
  return {
    currency: config.costs.currency,
    perHourMicros: Object.fromEntries(Object.entries(config.costs.perHour).map(([engine, amount]) => [engine, microsFromDecimal(amount)])),
  };
}
