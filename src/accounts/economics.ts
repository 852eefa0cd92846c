/**
 * What the GPUs cost against what their tokens earned (issue 4, item 9). A replica that
 * declares a cost per hour is paid for every hour of the range, used or not; that cost is
 * shared among the models it served each day in proportion to their work, where an output
 * token weighs `outputWeight` prompt tokens (decoding costs a GPU more per token than
 * prefill) and a cached prompt token weighs `cachedWeight`. Revenue is what the ledger
 * charged. Hours a replica served nothing that day are reported as idle cost.
 */
import { z } from 'zod';
import { parseRequest } from '../contracts/parse.js';
import { replicaUsageByDay, type ReplicaDayUsage } from '../billing/replica-usage.js';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Database } from '../store/schema.js';
import { dateRange } from './usage.js';

const dayMs = 86_400_000;
const outputWeight = 2;
const cachedWeight = 0.2;

export const economicsQuery = z.strictObject({
  start_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional(),
  end_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional(),
});

export interface EconomicsRow {
  day: string;
  model: string;
  requests: number;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  revenue_micros: number;
  cost_micros: number;
  margin_micros: number;
  /** Margin as a share of revenue, in basis points (null when there was no revenue). */
  margin_bps: number | null;
  /** GPU cost per 1M prompt / output tokens served, micro-units (null when none were served). */
  cost_per_m_input_micros: number | null;
  cost_per_m_output_micros: number | null;
}

export interface EconomicsReport {
  object: 'economics';
  start_date: string;
  end_date: string;
  currency: string;
  data: EconomicsRow[];
  /** Per day: what replicas cost while they served nothing. */
  idle: Array<{ day: string; cost_micros: number }>;
}

/** Engine id → what it costs per hour, in micro-units of `currency`. */
export interface ReplicaCosts {
  currency: string;
  perHourMicros: Readonly<Record<string, number>>;
}

export async function getEconomics(db: Kysely<Database>, clock: Clock, costs: ReplicaCosts, query: unknown): Promise<EconomicsReport> {
  const request = parseRequest(economicsQuery, query);
  const now = clock.wallNow().getTime();
  const range = dateRange(request.start_date, request.end_date, now);
  const usage = await replicaUsageByDay(db, range.from, range.to);
  return { object: 'economics', start_date: range.startDate, end_date: range.endDate, currency: costs.currency, ...allocate(usage, costs, range, now) };
}

/** The arithmetic of the report, apart from the database: exported for its unit test. */
export function allocate(usage: readonly ReplicaDayUsage[], costs: ReplicaCosts, range: { from: number; to: number }, now: number) {
  const work = (u: ReplicaDayUsage) => u.promptTokens - u.cachedTokens + cachedWeight * u.cachedTokens + outputWeight * u.completionTokens;
  const rows = new Map<string, EconomicsRow & { inputCost: number; outputCost: number }>();
  const idle: EconomicsReport['idle'] = [];
  for (let day = range.from / dayMs; day < range.to / dayMs; day++) {
    const date = new Date(day * dayMs).toISOString().slice(0, 10);
    const hours = Math.max(0, Math.min(now, (day + 1) * dayMs) - day * dayMs) / 3_600_000;
    const today = usage.filter((u) => u.day === day);
    let idleCost = 0;
    for (const [replicaId, perHour] of Object.entries(costs.perHourMicros)) {
      const served = today.filter((u) => u.replicaId === replicaId);
      const cost = perHour * hours;
      const total = served.reduce((sum, u) => sum + work(u), 0);
      if (total === 0) idleCost += cost;
      for (const u of served) {
        const share = (cost * work(u)) / total;
        const row = rowFor(rows, date, u.modelId);
        const outputShare = (outputWeight * u.completionTokens) / Math.max(1e-9, work(u));
        row.inputCost += share * (1 - outputShare);
        row.outputCost += share * outputShare;
      }
    }
    for (const u of today) {
      const row = rowFor(rows, date, u.modelId);
      row.requests += u.requests;
      row.input_tokens += u.promptTokens;
      row.cached_tokens += u.cachedTokens;
      row.output_tokens += u.completionTokens;
      row.revenue_micros += u.revenueMicros;
    }
    if (idleCost > 0) idle.push({ day: date, cost_micros: Math.round(idleCost) });
  }
  const data = [...rows.values()].map(({ inputCost, outputCost, ...row }) => {
    const cost = Math.round(inputCost + outputCost);
    const margin = row.revenue_micros - cost;
    return {
      ...row,
      cost_micros: cost,
      margin_micros: margin,
      margin_bps: row.revenue_micros > 0 ? Math.round((margin * 10_000) / row.revenue_micros) : null,
      cost_per_m_input_micros: row.input_tokens > 0 ? Math.round((inputCost * 1e6) / row.input_tokens) : null,
      cost_per_m_output_micros: row.output_tokens > 0 ? Math.round((outputCost * 1e6) / row.output_tokens) : null,
    };
  });
  return { data, idle };
}

function rowFor(rows: Map<string, EconomicsRow & { inputCost: number; outputCost: number }>, day: string, model: string) {
  const key = `${day}\u0000${model}`;
  let row = rows.get(key);
  if (!row) {
    row = {
      day, model, requests: 0, input_tokens: 0, cached_tokens: 0, output_tokens: 0, revenue_micros: 0,
      cost_micros: 0, margin_micros: 0, margin_bps: null, cost_per_m_input_micros: null, cost_per_m_output_micros: null,
      inputCost: 0, outputCost: 0,
    };
    rows.set(key, row);
  }
  return row;
}
