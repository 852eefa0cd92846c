/**
 * `skylark tenant|key|endpoint …`: who may call the gateway, with which key, through which
 * endpoint. Thin: each action parses its input, calls the tenancy repository and prints.
 */
import type { Command } from 'commander';
import { formatMicros } from '../billing/pricing.js';
import { Ledger } from '../billing/ledger.js';
import type { EndpointStatus, TenantStatus } from '../store/schema.js';
import { ApiKeys, type ApiKey } from '../tenancy/api-keys.js';
import { Endpoints, type Endpoint } from '../tenancy/endpoints.js';
import { Tenants, type Tenant } from '../tenancy/tenants.js';
import {
  adminCommand,
  CliError,
  handled,
  parseAmount,
  parseChoice,
  parseCurrency,
  parseInteger,
  parseList,
  parseFutureTime,
  requireTenant,
  storeOptions,
  tiers,
  type CommonOptions,
} from './common-commands.js';
import { withStore } from './store-location.js';
import { emit, formatRecord, formatTable, iso } from './table.js';

export function registerTenancyCommands(program: Command): void {
  registerTenantCommands(program);
  registerKeyCommands(program);
  registerEndpointCommands(program);
}

const tenantView = (t: Tenant) => ({ ...t, createdAt: iso(t.createdAt) });

function registerTenantCommands(program: Command): void {
  const tenant = adminCommand(program, 'tenant', 'Create, list, suspend and activate tenants (who pays)');

  storeOptions(tenant.command('create').description('Create a tenant (with a zero balance)'))
    .argument('<name>', 'display name')
    .option('--tier <tier>', `scheduling tier: ${tiers.join('|')}`, 'standard')
    .option('--currency <currency>', 'billing currency: CNY|USD', 'CNY')
    .option('--unlimited', 'operator/internal tenant: never refused for lack of balance')
    .action(
      handled(async (name: string, options: CommonOptions & { tier: string; currency: string; unlimited?: boolean }) => {
        const input = {
          name,
          tier: parseChoice('--tier', options.tier, tiers),
          currency: parseCurrency(options.currency),
          unlimited: options.unlimited === true,
        };
        const created = await withStore(options, (store) => new Tenants(store.db).create(input));
        emit(options.json, tenantView(created), () => formatRecord(Object.entries(tenantView(created))));
      }),
    );

  storeOptions(tenant.command('list').description('List tenants with their balances')).action(
    handled(async (options: CommonOptions) => {
      const rows = await withStore(options, async (store) => {
        const ledger = new Ledger(store.db);
        const all = await new Tenants(store.db).list();
        return Promise.all(all.map(async (t) => ({ ...tenantView(t), balanceMicros: (await ledger.balance(t.id))?.balanceMicros ?? 0 })));
      });
      emit(options.json, rows, () =>
        formatTable(
          ['id', 'name', 'status', 'tier', 'balance', 'created'],
          rows.map((t) => [t.id, t.name, t.status, t.tier, `${formatMicros(t.balanceMicros)} ${t.currency}`, t.createdAt]),
        ),
      );
    }),
  );

  const setStatus = (verb: string, status: TenantStatus, description: string) =>
    storeOptions(tenant.command(verb).description(description))
      .argument('<id>', 'tenant id')
      .action(
        handled(async (id: string, options: CommonOptions) => {
          const updated = await withStore(options, async (store) => {
            const tenants = new Tenants(store.db);
            if (!(await tenants.setStatus(id, status))) throw new CliError(`unknown tenant '${id}' (see skylark tenant list)`);
            return (await tenants.get(id))!;
          });
          emit(options.json, tenantView(updated), () => `tenant ${id} is now ${status}\n`);
        }),
      );
  setStatus('suspend', 'suspended', 'Refuse every request of a tenant until activated');
  setStatus('activate', 'active', 'Let a suspended tenant call the gateway again');
}

const keyView = (k: ApiKey) => ({
  ...k,
  monthlyBudget: k.monthlyBudgetMicros === null ? null : formatMicros(k.monthlyBudgetMicros),
  expiresAt: iso(k.expiresAt),
  revokedAt: iso(k.revokedAt),
  createdAt: iso(k.createdAt),
  lastUsedAt: iso(k.lastUsedAt),
});

const keyRecord = (k: ReturnType<typeof keyView>) =>
  formatRecord([
    ['id', k.id],
    ['tenant', k.tenantId],
    ['name', k.name],
    ['prefix', `${k.prefix}…`],
    ['models', k.scopes.length === 0 ? 'all' : k.scopes.join(',')],
    ['rpm', k.rpm],
    ['tpm', k.tpm],
    ['monthly budget', k.monthlyBudget ?? 'none'],
    ['expires', k.expiresAt ?? 'never'],
  ]);

interface KeyCreateOptions extends CommonOptions {
  tenant: string;
  name: string;
  rpm?: string;
  tpm?: string;
  budget?: string;
  expires?: string;
  models?: string;
}

function registerKeyCommands(program: Command): void {
  const key = adminCommand(program, 'key', 'Create, list and revoke API keys');

  storeOptions(key.command('create').description('Create an API key for a tenant; the key is printed once'))
    .requiredOption('--tenant <id>', 'the tenant the key bills')
    .option('--name <name>', 'a label to tell keys apart', 'default')
    .option('--rpm <n>', 'requests per minute (default 60)')
    .option('--tpm <n>', 'tokens per minute (default 100000)')
    .option('--budget <amount>', 'monthly spending cap, in currency units')
    .option('--expires <iso>', 'when the key stops working (ISO 8601)')
    .option('--models <ids>', 'comma-separated model/endpoint ids the key may call (default: all)')
    .action(
      handled(async (options: KeyCreateOptions) => {
        const expiresAt = options.expires === undefined ? null : parseFutureTime('--expires', options.expires);
        const input = {
          tenantId: options.tenant,
          name: options.name,
          scopes: options.models === undefined ? [] : parseList(options.models),
          ...(options.rpm !== undefined ? { rpm: parseInteger('--rpm', options.rpm) } : {}),
          ...(options.tpm !== undefined ? { tpm: parseInteger('--tpm', options.tpm) } : {}),
          monthlyBudgetMicros: options.budget === undefined ? null : parseAmount('--budget', options.budget),
          expiresAt,
        };
        const created = await withStore(options, async (store) => {
          await requireTenant(store.db, options.tenant);
          return new ApiKeys(store.db).create(input);
        });
        const view = { key: created.key, ...keyView(created.apiKey) };
        emit(options.json, view, () => `${keyRecord(view)}\nAPI key (shown once, store it now):\n\n  ${view.key}\n`);
      }),
    );

  storeOptions(key.command('list').description("List a tenant's keys (prefix only; keys are never stored)"))
    .requiredOption('--tenant <id>', 'tenant id')
    .action(
      handled(async (options: CommonOptions & { tenant: string }) => {
        const keys = await withStore(options, async (store) => {
          await requireTenant(store.db, options.tenant);
          return new ApiKeys(store.db).list(options.tenant);
        });
        const views = keys.map(keyView);
        emit(options.json, views, () =>
          formatTable(
            ['id', 'name', 'prefix', 'rpm', 'tpm', 'budget', 'models', 'expires', 'revoked'],
            views.map((k) => [k.id, k.name, `${k.prefix}…`, k.rpm, k.tpm, k.monthlyBudget, k.scopes.join(','), k.expiresAt, k.revokedAt]),
          ),
        );
      }),
    );

  storeOptions(key.command('revoke').description('Revoke a key at once'))
    .argument('<key-id>', 'the key id (key_…), as key list shows')
    .action(
      handled(async (id: string, options: CommonOptions) => {
        const revoked = await withStore(options, async (store) => {
          const keys = new ApiKeys(store.db);
          if (!(await keys.revoke(id))) {
            const existing = await keys.get(id);
            throw new CliError(existing === undefined ? `unknown key id '${id}'` : `key ${id} was already revoked at ${iso(existing.revokedAt)}`);
          }
          return (await keys.get(id))!;
        });
        emit(options.json, keyView(revoked), () => `revoked key ${id}\n`);
      }),
    );
}

const endpointView = (e: Endpoint) => ({ ...e, createdAt: iso(e.createdAt) });

function registerEndpointCommands(program: Command): void {
  const endpoint = adminCommand(program, 'endpoint', 'Create, list, stop and start endpoints (ep-…)');

  storeOptions(endpoint.command('create').description("Create a tenant's endpoint: a named, rate-limited handle on a model"))
    .requiredOption('--tenant <id>', 'owning tenant')
    .requiredOption('--model <model>', 'model id it serves')
    .option('--name <name>', 'display name (default: the model id)')
    .option('--rpm <n>', 'requests per minute (default 60)')
    .option('--tpm <n>', 'tokens per minute (default: unlimited)')
    .option('--fallbacks <ids>', "comma-separated models to serve it with when its model cannot meet a deadline (default: the model's own)")
    .action(
      handled(async (options: CommonOptions & { tenant: string; model: string; name?: string; rpm?: string; tpm?: string; fallbacks?: string }) => {
        const input = {
          tenantId: options.tenant,
          modelId: options.model,
          name: options.name ?? options.model,
          ...(options.rpm !== undefined ? { rpm: parseInteger('--rpm', options.rpm) } : {}),
          ...(options.tpm !== undefined ? { tpm: parseInteger('--tpm', options.tpm) } : {}),
          ...(options.fallbacks !== undefined ? { fallbacks: parseList(options.fallbacks) } : {}),
        };
        const created = await withStore(options, async (store) => {
          await requireTenant(store.db, options.tenant);
          return new Endpoints(store.db).create(input);
        });
        emit(options.json, endpointView(created), () =>
          formatRecord(Object.entries({ ...endpointView(created), fallbacks: created.fallbacks.join(',') || '(the model\'s)' })),
        );
      }),
    );

  storeOptions(endpoint.command('list').description('List endpoints: all, or those a tenant may call (its own and shared)'))
    .option('--tenant <id>', 'only what this tenant may call')
    .action(
      handled(async (options: CommonOptions & { tenant?: string }) => {
        const endpoints = await withStore(options, async (store) => {
          if (options.tenant !== undefined) {
            await requireTenant(store.db, options.tenant);
            return new Endpoints(store.db).visibleTo(options.tenant);
          }
          return new Endpoints(store.db).list();
        });
        const views = endpoints.map(endpointView);
        emit(options.json, views, () =>
          formatTable(
            ['id', 'name', 'model', 'tenant', 'status', 'rpm', 'tpm', 'fallbacks'],
            views.map((e) => [e.id, e.name, e.modelId, e.tenantId ?? '(shared)', e.status, e.rpm, e.tpm ?? 'unlimited', e.fallbacks.join(',')]),
          ),
        );
      }),
    );

  const setStatus = (verb: string, status: EndpointStatus, description: string) =>
    storeOptions(endpoint.command(verb).description(description))
      .argument('<id>', 'endpoint id (ep-…)')
      .action(
        handled(async (id: string, options: CommonOptions) => {
          const updated = await withStore(options, async (store) => {
            const endpoints = new Endpoints(store.db);
            if (!(await endpoints.setStatus(id, status))) throw new CliError(`unknown endpoint '${id}' (see skylark endpoint list)`);
            return (await endpoints.get(id))!;
          });
          emit(options.json, endpointView(updated), () => `endpoint ${id} is now ${status}\n`);
        }),
      );
  setStatus('stop', 'stopped', 'Stop serving an endpoint (requests to it are refused)');
  setStatus('start', 'started', 'Serve a stopped endpoint again');
}
