/**
 * `skylark migrate|price|topup|redeem|balance|ledger …`: the operator's side of billing.
 * Money goes in as decimal currency units ("100", "0.8"), is integer micros everywhere
 * inside, and comes out through formatMicros, so nothing is ever rounded by a float.
 * registerBillingCommands also registers the tenancy commands: main.ts needs one line.
 */
import type { Command } from 'commander';
import { Ledger, type Balance, type VerifyProblem } from '../billing/ledger.js';
import { PriceCatalog, seedDoubaoPrices } from '../billing/price-catalog.js';
import { describeProblem } from '../billing/verify.js';
import { defaultCachedInputMicros, formatMicros, type Price } from '../billing/pricing.js';
import type { Currency } from '../store/schema.js';
import { Tenants } from '../tenancy/tenants.js';
import {
  adminCommand,
  CliError,
  handled,
  parseAmount,
  parseCurrency,
  parseFutureTime,
  parseInteger,
  parseTime,
  requireTenant,
  storeOptions,
  type CommonOptions,
} from './common-commands.js';
import { withStore } from './store-location.js';
import { emit, formatRecord, formatTable, iso } from './table.js';
import { registerTenancyCommands } from './tenancy-commands.js';

export function registerBillingCommands(program: Command): void {
  storeOptions(adminCommand(program, 'migrate', 'Apply database migrations (other commands also do, first)')).action(
    handled(async (options: CommonOptions) => {
      const result = await withStore(options, async (store, applied) => ({ database: store.description, applied }));
      emit(options.json, result, () =>
        result.applied.length === 0
          ? `${result.database}: already up to date\n`
          : `${result.database}: applied ${result.applied.join(', ')}\n`,
      );
    }),
  );
  registerTenancyCommands(program);
  registerPriceCommands(program);
  registerMoneyCommands(program);
}

const priceView = (p: Price) => ({
  ...p,
  input: formatMicros(p.inputPerMMicros),
  cachedInput: formatMicros(p.cachedInputPerMMicros),
  output: formatMicros(p.outputPerMMicros),
  image: formatMicros(p.imageMicros ?? 0),
  speechChars: formatMicros(p.speechPerMCharsMicros ?? 0),
  audioMinute: formatMicros(p.audioPerMinuteMicros ?? 0),
  contextStorage: formatMicros(p.contextStoragePerMHourMicros ?? 0),
  effectiveFrom: iso(p.effectiveFrom),
  createdAt: iso(p.createdAt),
});

const priceTable = (prices: readonly Price[]) =>
  formatTable(
    ['model', 'version', 'currency', 'input/1M', 'cached/1M', 'output/1M', 'batch off', 'tiers', 'image', 'speech/1M chars', 'audio/min', 'ctx/1M/h', 'effective from'],
    prices.map(priceView).map((p) => [
      p.modelId, p.version, p.currency, p.input, p.cachedInput, p.output, `${p.batchDiscountPct}%`, p.tiers.length || '-',
      p.image, p.speechChars, p.audioMinute, p.contextStorage, p.effectiveFrom,
    ]),
  );

interface PriceSetOptions extends CommonOptions {
  input: string;
  output: string;
  cachedInput?: string;
  batchDiscount: string;
  currency: string;
  image?: string;
  speechChars?: string;
  audioMinute?: string;
  contextStorage?: string;
  effectiveFrom?: string;
}

function registerPriceCommands(program: Command): void {
  const price = adminCommand(program, 'price', 'Set and list model prices (versioned; old versions are kept)');

  storeOptions(price.command('set').description('Add a new price version for a model (per 1M tokens, in currency units)'))
    .argument('<model>', 'model id')
    .requiredOption('--input <amount>', 'per 1M prompt tokens')
    .requiredOption('--output <amount>', 'per 1M completion tokens')
    .option('--cached-input <amount>', 'per 1M cached prompt tokens (default: 20% of --input)')
    .option('--batch-discount <pct>', 'percent off batch requests', '50')
    .option('--currency <currency>', 'CNY|USD', 'CNY')
    .option('--image <amount>', 'per image unit: a standard image up to 1024x1024 (larger or hd ones count more)')
    .option('--speech-chars <amount>', 'per 1M characters of speech input')
    .option('--audio-minute <amount>', 'per minute of transcribed audio (charged by the second)')
    .option('--context-storage <amount>', 'per 1M tokens of a cached context (POST /v1/context/create) held for one hour')
    .option('--effective-from <iso>', 'when this version applies (default: now)')
    .action(
      handled(async (modelId: string, options: PriceSetOptions) => {
        const inputPerMMicros = parseAmount('--input', options.input, { allowZero: true });
        const input = {
          modelId,
          currency: parseCurrency(options.currency),
          inputPerMMicros,
          cachedInputPerMMicros:
            options.cachedInput === undefined ? defaultCachedInputMicros(inputPerMMicros) : parseAmount('--cached-input', options.cachedInput, { allowZero: true }),
          outputPerMMicros: parseAmount('--output', options.output, { allowZero: true }),
          batchDiscountPct: parseInteger('--batch-discount', options.batchDiscount, { min: 0, max: 100 }),
          ...(options.image !== undefined ? { imageMicros: parseAmount('--image', options.image, { allowZero: true }) } : {}),
          ...(options.speechChars !== undefined ? { speechPerMCharsMicros: parseAmount('--speech-chars', options.speechChars, { allowZero: true }) } : {}),
          ...(options.audioMinute !== undefined ? { audioPerMinuteMicros: parseAmount('--audio-minute', options.audioMinute, { allowZero: true }) } : {}),
          ...(options.contextStorage !== undefined
            ? { contextStoragePerMHourMicros: parseAmount('--context-storage', options.contextStorage, { allowZero: true }) }
            : {}),
          ...(options.effectiveFrom !== undefined ? { effectiveFrom: parseTime('--effective-from', options.effectiveFrom) } : {}),
        };
        const created = await withStore(options, (store) => new PriceCatalog(store.db).setPrice(input));
        emit(options.json, priceView(created), () => `${modelId}: version ${created.version}\n${priceTable([created])}`);
      }),
    );

  storeOptions(price.command('list').description('The price in effect now for every model, or every version of one'))
    .option('--model <model>', 'show every version of this model, scheduled ones included')
    .action(
      handled(async (options: CommonOptions & { model?: string }) => {
        const prices = await withStore(options, (store) => {
          const catalog = new PriceCatalog(store.db);
          return options.model === undefined ? catalog.list() : catalog.versions(options.model);
        });
        emit(options.json, prices.map(priceView), () => priceTable(prices));
      }),
    );

  storeOptions(price.command('seed').description('Give models Doubao-style default prices (CNY), unless already priced'))
    .argument('<model:kind...>', 'model ids, each with :pro or :lite (e.g. doubao-pro-32k:pro)')
    .action(
      handled(async (specs: string[], options: CommonOptions) => {
        const models = { pro: [] as string[], lite: [] as string[] };
        for (const spec of specs) {
          const match = /^(.+):(pro|lite)$/.exec(spec);
          if (match === null) throw new CliError(`expected MODEL:pro or MODEL:lite, got '${spec}'`);
          models[match[2] as 'pro' | 'lite'].push(match[1]!);
        }
        const added = await withStore(options, (store) => seedDoubaoPrices(new PriceCatalog(store.db), models));
        const skipped = specs.map((s) => s.replace(/:(pro|lite)$/, '')).filter((id) => !added.some((p) => p.modelId === id));
        emit(options.json, { added: added.map(priceView), skipped }, () =>
          `${priceTable(added)}${skipped.length > 0 ? `already priced, left as they are: ${skipped.join(', ')}\n` : ''}`,
        );
      }),
    );
}

const balanceView = (b: Balance, currency: Currency) => ({
  ...b,
  currency,
  balance: formatMicros(b.balanceMicros),
  reserved: formatMicros(b.reservedMicros),
  available: formatMicros(b.availableMicros),
});

const balanceText = (v: ReturnType<typeof balanceView>) =>
  formatRecord([
    ['tenant', v.tenantId],
    ['balance', `${v.balance} ${v.currency}`],
    ['reserved', `${v.reserved} ${v.currency}`],
    ['available', `${v.available} ${v.currency}`],
  ]);

function registerMoneyCommands(program: Command): void {
  storeOptions(adminCommand(program, 'topup', "Add credit to a tenant's balance (in the tenant's currency)"))
    .argument('<tenant-id>', 'tenant id')
    .argument('<amount>', 'currency units, e.g. 100 or 0.5')
    .option('--ref <text>', 'why: an invoice or payment reference, kept in the ledger', 'cli topup')
    .action(
      handled(async (tenantId: string, amount: string, options: CommonOptions & { ref: string }) => {
        const micros = parseAmount('amount', amount);
        const view = await withStore(options, async (store) => {
          const tenant = await requireTenant(store.db, tenantId);
          return balanceView(await new Ledger(store.db).topUp(tenantId, micros, options.ref), tenant.currency);
        });
        emit(options.json, view, () => balanceText(view));
      }),
    );

  storeOptions(adminCommand(program, 'balance', "Show a tenant's balance"))
    .argument('<tenant-id>', 'tenant id')
    .action(
      handled(async (tenantId: string, options: CommonOptions) => {
        const view = await withStore(options, async (store) => {
          const tenant = await requireTenant(store.db, tenantId);
          const balance = await new Ledger(store.db).balance(tenantId);
          if (balance === undefined) throw new Error(`tenant ${tenantId} has no balance row (run skylark ledger verify)`);
          return balanceView(balance, tenant.currency);
        });
        emit(options.json, view, () => balanceText(view));
      }),
    );

  const redeem = adminCommand(program, 'redeem', 'Prepaid codes: create one, or credit a tenant with one');
  storeOptions(redeem.command('create').description('Create a single-use prepaid code; the code is printed once'))
    .argument('<amount>', 'currency units it is worth')
    .option('--currency <currency>', 'CNY|USD (must match the redeeming tenant)', 'CNY')
    .option('--expires <iso>', 'last moment it can be used (ISO 8601)')
    .action(
      handled(async (amount: string, options: CommonOptions & { currency: string; expires?: string }) => {
        const input = {
          amountMicros: parseAmount('amount', amount),
          currency: parseCurrency(options.currency),
          expiresAt: options.expires === undefined ? null : parseFutureTime('--expires', options.expires),
        };
        const created = await withStore(options, (store) => new Ledger(store.db).createRedeemCode(input));
        const view = { ...created, amount: formatMicros(input.amountMicros), amountMicros: input.amountMicros, currency: input.currency, expiresAt: iso(input.expiresAt) };
        emit(options.json, view, () => `redeem code ${created.id} worth ${view.amount} ${view.currency} (shown once):\n\n  ${created.code}\n`);
      }),
    );

  storeOptions(redeem.command('use').description("Redeem a code into a tenant's balance"))
    .argument('<code>', 'the code (case, spaces and dashes do not matter)')
    .requiredOption('--tenant <id>', 'tenant to credit')
    .action(
      handled(async (code: string, options: CommonOptions & { tenant: string }) => {
        const view = await withStore(options, async (store) => {
          const tenant = await requireTenant(store.db, options.tenant);
          const ledger = new Ledger(store.db);
          const result = await ledger.redeem(code, tenant.id);
          if (!result.ok) throw new CliError(redeemRefusals[result.reason]);
          return { codeId: result.codeId, credited: formatMicros(result.amountMicros), ...balanceView((await ledger.balance(tenant.id))!, tenant.currency) };
        });
        emit(options.json, view, () => `credited ${view.credited} ${view.currency} (code ${view.codeId})\n${balanceText(view)}`);
      }),
    );

  const ledger = adminCommand(program, 'ledger', 'Check the books');
  storeOptions(ledger.command('verify').description('Recompute every balance from the ledger; exit 1 if any differs')).action(
    handled(async (options: CommonOptions) => {
      const report = await withStore(options, async (store) => {
        const problems = await new Ledger(store.db).verify();
        const tenants = await new Tenants(store.db).list();
        return { ok: problems.length === 0, tenants: tenants.length, problems: problems.map(problemView) };
      });
      emit(options.json, report, () =>
        report.ok
          ? `ledger verified: ${report.tenants} tenant(s), every balance matches\n`
          : `${report.problems.map((p) => `${p.tenantId}: ${p.message}`).join('\n')}\n${report.problems.length} mismatch(es)\n`,
      );
      if (!report.ok) process.exitCode = 1;
    }),
  );
}

const redeemRefusals = {
  not_found: 'no such redeem code',
  already_redeemed: 'this code has already been redeemed',
  expired: 'this code has expired',
  currency_mismatch: "this code's currency differs from the tenant's",
  unknown_tenant: 'unknown tenant',
} as const;

function problemView(p: VerifyProblem) {
  return { ...p, message: describeProblem(p) };
}
