import { SkylarkError } from '../core/errors.js';
import type { ModelCapability, WireModel } from '../contracts/responses.js';
import type { Engine } from '../engines/engine.js';

export interface ModelEntry {
  /** The public id clients send as `model`. */
  id: string;
  family: string;
  tier: string;
  capabilities: ModelCapability[];
  /** Prompt + completion tokens; null when the upstream does not say. */
  contextWindow: number | null;
  /** The first of its replicas: for health and description. */
  engine: Engine;
  /** Every engine serving it; the scheduler picks one per request. */
  replicas: readonly Engine[];
  /** Lighter models to serve it with when it cannot meet a request's deadline (pro → lite). */
  fallbacks: readonly string[];
  /** The name the engine knows the model by (an upstream's own model id). */
  engineModel: string;
  ownedBy: string;
  created: number;
}

/** Public model ids → the engines that serve them. */
export class ModelCatalog {
  private readonly entries = new Map<string, ModelEntry>();

  constructor(entries: readonly ModelEntry[]) {
    for (const entry of entries) {
      assertEnginesServe(entry);
      this.entries.set(entry.id, entry);
    }
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): ModelEntry {
    const entry = this.entries.get(id);
    if (!entry) {
      throw new SkylarkError('model_not_found', `The model '${id}' does not exist or you do not have access to it.`, {
        param: 'model',
      });
    }
    return entry;
  }

  /** The model, checked to serve this kind of request. */
  require(id: string, capability: ModelCapability): ModelEntry {
    const entry = this.get(id);
    if (!entry.capabilities.includes(capability)) {
      throw new SkylarkError(
        'invalid_request',
        `The model '${id}' does not support ${capability}; it supports ${entry.capabilities.join(', ')}.`,
        { param: 'model' },
      );
    }
    return entry;
  }

  allReady(): boolean {
    return this.list().every((entry) => entry.engine.health().state === 'ready');
  }
}

/** The engine method each media capability needs: a model may declare it only on engines that have it. */
const mediaMethods = { images: 'images', speech: 'speech', transcription: 'transcribe' } as const;

function assertEnginesServe(entry: ModelEntry): void {
  for (const capability of entry.capabilities) {
    if (!(capability in mediaMethods)) continue;
    const method = mediaMethods[capability as keyof typeof mediaMethods];
    const lacking = entry.replicas.find((engine) => typeof engine[method] !== 'function');
    if (lacking) {
      throw new Error(`models: '${entry.id}' declares ${capability}, but its engine '${lacking.id}' (${lacking.kind}) cannot serve ${capability}.`);
    }
  }
}

export function toWireModel(entry: ModelEntry): WireModel {
  return {
    id: entry.id,
    object: 'model',
    created: entry.created,
    owned_by: entry.ownedBy,
    family: entry.family,
    tier: entry.tier,
    context_window: entry.contextWindow,
    capabilities: entry.capabilities,
    engine: entry.engine.kind,
    ready: entry.engine.health().state === 'ready',
  };
}
