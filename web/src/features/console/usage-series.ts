/**
 * /v1/usage rows turned into what the charts and tables show. Money stays in integer
 * micros while it is summed (the API's exact unit); only the charts get floats.
 */
import type { UsageRowObject } from '../../../../src/contracts/admin-responses.js';

const dayMs = 86_400_000;

export interface DayRange {
  start: string;
  end: string;
  /** Every day from start to end, YYYY-MM-DD (UTC, as the API counts days). */
  days: string[];
}

export function lastDays(count: number, now = Date.now()): DayRange {
  const today = Math.floor(now / dayMs);
  const days = Array.from({ length: count }, (_, i) => new Date((today - count + 1 + i) * dayMs).toISOString().slice(0, 10));
  return { start: days[0]!, end: days.at(-1)!, days };
}

export interface Totals {
  requests: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  costMicros: number;
}

const zero = (): Totals => ({ requests: 0, promptTokens: 0, cachedTokens: 0, completionTokens: 0, costMicros: 0 });

function add(into: Totals, row: UsageRowObject): void {
  into.requests += row.requests;
  into.promptTokens += row.prompt_tokens;
  into.cachedTokens += row.cached_tokens;
  into.completionTokens += row.completion_tokens;
  into.costMicros += row.cost_micros;
}

export function total(rows: UsageRowObject[]): Totals {
  const sum = zero();
  for (const row of rows) add(sum, row);
  return sum;
}

/** One line per model (or key): its totals, the most expensive first. */
export function totalsBy(rows: UsageRowObject[], field: 'model' | 'api_key_id'): Array<Totals & { id: string | null }> {
  const groups = new Map<string | null, Totals>();
  for (const row of rows) {
    const id = row[field] ?? null;
    let sum = groups.get(id);
    if (!sum) groups.set(id, (sum = zero()));
    add(sum, row);
  }
  return [...groups].map(([id, sum]) => ({ id, ...sum })).sort((a, b) => b.costMicros - a.costMicros || b.requests - a.requests);
}

export interface DailySeries {
  days: string[];
  models: string[];
  /** Per model, cost per day in currency units (for a stacked bar chart). */
  costByModel: Map<string, number[]>;
  promptTokens: number[];
  completionTokens: number[];
  requests: number[];
}

/** Rows grouped by day (and model) laid out on every day of the range, quiet days as zeros. */
export function daily(rows: UsageRowObject[], range: DayRange): DailySeries {
  const index = new Map(range.days.map((day, i) => [day, i]));
  const blank = () => range.days.map(() => 0);
  const series: DailySeries = { days: range.days, models: [], costByModel: new Map(), promptTokens: blank(), completionTokens: blank(), requests: blank() };
  for (const row of rows) {
    const i = row.day === undefined ? undefined : index.get(row.day);
    if (i === undefined) continue;
    const model = row.model ?? '';
    let costs = series.costByModel.get(model);
    if (!costs) series.costByModel.set(model, (costs = blank()));
    costs[i]! += row.cost_micros / 1e6;
    series.promptTokens[i]! += row.prompt_tokens;
    series.completionTokens[i]! += row.completion_tokens;
    series.requests[i]! += row.requests;
  }
  series.models = [...series.costByModel.keys()].sort();
  return series;
}
