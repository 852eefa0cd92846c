import { parseArgs } from 'node:util';

export interface BenchArgs {
  quick: boolean;
  /** Seconds measured per row. */
  duration: number;
  /** Seconds of unmeasured load before each row (JIT, connection pools, caches). */
  warmup: number;
  values: Record<string, string | boolean | undefined>;
}

/** --quick (about 30 s in all), --duration S, --warmup S, plus any bench-specific string flags and boolean `switches`. */
export function benchArgs(
  defaults: { duration: number; warmup: number; quickDuration: number; quickWarmup: number },
  extra: string[] = [],
  switches: string[] = [],
): BenchArgs {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      ...Object.fromEntries(extra.map((name) => [name, { type: 'string' as const }])),
      ...Object.fromEntries(switches.map((name) => [name, { type: 'boolean' as const }])),
    },
    strict: true,
  });
  const quick = values.quick === true;
  const number = (value: unknown, fallback: number) => (typeof value === 'string' ? Number(value) : fallback);
  return {
    quick,
    duration: number(values.duration, quick ? defaults.quickDuration : defaults.duration),
    warmup: number(values.warmup, quick ? defaults.quickWarmup : defaults.warmup),
    values: values as Record<string, string | boolean | undefined>,
  };
}
