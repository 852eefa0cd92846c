/**
 * `skylark economics`: the same report as GET /admin/economics, from the database and the
 * config's `costs.perHour` (what each engine costs to run).
 */
import type { Command } from 'commander';
import { systemClock } from '../core/clock.js';
import { formatMicros } from '../core/money.js';
import { isSkylarkError } from '../core/errors.js';
import { loadConfigFile, replicaCostsOf } from '../config/load-config.js';
import { getEconomics, type ReplicaCosts } from '../accounts/economics.js';
import { CliError, adminCommand, handled, storeOptions, type CommonOptions } from './common-commands.js';
import { withStore } from './store-location.js';
import { emit, formatTable } from './table.js';

interface EconomicsOptions extends CommonOptions {
  config?: string;
  start?: string;
  end?: string;
}

export function registerEconomicsCommand(program: Command): void {
  storeOptions(
    adminCommand(program, 'economics', 'GPU cost against token revenue, per day and model')
      .option('--config <file>', "the serve config: its costs.perHour says what each engine costs (without it: revenue only)")
      .option('--start <date>', 'first day, YYYY-MM-DD (UTC; default: 29 days before --end)')
      .option('--end <date>', 'last day, YYYY-MM-DD (UTC; default: today)'),
  ).action(
    handled(async (options: EconomicsOptions) => {
      const costs = await replicaCosts(options.config);
      const query = { ...(options.start ? { start_date: options.start } : {}), ...(options.end ? { end_date: options.end } : {}) };
      const report = await withStore(options, (store) => getEconomics(store.db, systemClock, costs, query)).catch((error: unknown) => {
        throw isSkylarkError(error) ? new CliError(error.message) : error;
      });
      emit(options.json, report, () => {
        const money = (micros: number | null) => (micros === null ? '' : formatMicros(micros));
        const rows = report.data.map((row) => [
          row.day, row.model, row.requests, row.input_tokens, row.output_tokens, money(row.revenue_micros), money(row.cost_micros),
          money(row.margin_micros), row.margin_bps === null ? '' : `${(row.margin_bps / 100).toFixed(1)}%`,
          money(row.cost_per_m_input_micros), money(row.cost_per_m_output_micros),
        ]);
        const idle = report.idle.map((day) => `${day.day}: idle replicas cost ${formatMicros(day.cost_micros)} ${report.currency}`).join('\n');
        return `${formatTable(
          ['day', 'model', 'requests', 'input tokens', 'output tokens', `revenue ${report.currency}`, 'GPU cost', 'margin', 'margin %', 'cost /1M in', 'cost /1M out'],
          rows,
        )}${idle === '' ? '' : `\n${idle}\n`}`;
      });
    }),
  );
}

async function replicaCosts(configPath: string | undefined): Promise<ReplicaCosts> {
  if (configPath === undefined) return { currency: 'CNY', perHourMicros: {} };
  return replicaCostsOf((await loadConfigFile(configPath)).config);
}
