import { z } from 'zod';
import { engineConfigSchema } from '../engines/registry.js';

const capability = z.enum(['chat', 'completions', 'embeddings', 'tools', 'vision', 'json_schema']);

const byteSize = z.union([
  z.number().int().min(1024),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)$/i, 'a size like "10mb"')
    .transform((text) => {
      const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(text)!;
      const scale = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit!.toLowerCase() as 'b'];
      return Math.round(Number(amount) * scale);
    }),
]);

export const modelConfigSchema = z.strictObject({
  id: z.string().min(1).regex(/^[^\s]+$/, 'no spaces'),
  engine: z.string().min(1),
  /** The upstream's own name for the model; defaults to id. */
  upstreamModel: z.string().min(1).optional(),
  family: z.string().default('skylark'),
  tier: z.string().default('standard'),
  contextWindow: z.number().int().min(1).optional(),
  capabilities: z.array(capability).min(1).default(['chat', 'completions']),
  ownedBy: z.string().default('skylark'),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      bodyLimit: byteSize.default(10 * 1024 * 1024),
      shutdownGraceMs: z.number().int().min(0).default(10_000),
    })
    .prefault({}),
  engines: z.record(z.string().regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ or -'), engineConfigSchema),
  models: z.array(modelConfigSchema).min(1),
});

export type SkylarkConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelConfigSchema>;
