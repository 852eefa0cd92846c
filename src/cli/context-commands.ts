/**
 * `skylark context list|show|delete`: the operator's view of every tenant's cached
 * contexts (POST /v1/context/create), from the database. A delete charges the storage held
 * up to now straight into the ledger, as the gateway would.
 */
import type { Command } from 'commander';
import { Ledger } from '../billing/ledger.js';
import { PriceCatalog } from '../billing/price-catalog.js';
import { formatMicros } from '../core/money.js';
import { StoredContexts, type StoredContext } from '../contexts/stored-contexts.js';
import type { Store } from '../store/database.js';
import type { ContextStatus } from '../store/schema.js';
import { CliError, adminCommand, handled, parseInteger, storeOptions, type CommonOptions } from './common-commands.js';
import { withStore } from './store-location.js';
import { emit, formatRecord, formatTable } from './table.js';

interface ListOptions extends CommonOptions {
  tenant?: string;
  status: string;
  limit: string;
}

function contextsOf(store: Store): StoredContexts {
  const ledger = new Ledger(store.db);
  return new StoredContexts(store.db, new PriceCatalog(store.db), (settlement) => ledger.settleMany([settlement]));
}

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

/** What --json prints: the row without its messages (they can be long); `show` adds them. */
const view = ({ messages, ...rest }: StoredContext) => ({ ...rest, messageCount: messages.length, storageCharged: formatMicros(rest.storageChargedMicros) });

export function registerContextCommands(program: Command): void {
  const context = adminCommand(program, 'context', 'Cached contexts of every tenant (Ark-style context caching)');
  storeOptions(
    context
      .command('list')
      .description('Contexts, newest first')
      .option('--tenant <id>', 'only this tenant')
      .option('--status <status>', 'active, expired or deleted', 'active')
      .option('--limit <n>', 'at most this many', '50'),
  ).action(
    handled(async (options: ListOptions) => {
      if (!['active', 'expired', 'deleted'].includes(options.status)) throw new CliError('--status must be active, expired or deleted');
      const limit = parseInteger('--limit', options.limit, { min: 1, max: 10_000 });
      const rows = await withStore(options, (store) =>
        contextsOf(store).listAll({ limit, status: options.status as ContextStatus, ...(options.tenant ? { tenantId: options.tenant } : {}) }),
      );
      emit(options.json, rows.map(view), () =>
        formatTable(
          ['id', 'tenant', 'model', 'mode', 'tokens', 'storage charged', 'expires'],
          rows.map((c) => [c.id, c.tenantId, c.model, c.mode, c.tokens, formatMicros(c.storageChargedMicros), iso(c.expiresAt)]),
        ),
      );
    }),
  );
  storeOptions(context.command('show').description('One context, with its messages').argument('<id>')).action(
    handled(async (id: string, options: CommonOptions) => {
      const found = await withStore(options, (store) => contextsOf(store).get(null, id));
      if (found === undefined) throw new CliError(`no context '${id}'`);
      emit(options.json, { ...view(found), messages: found.messages }, () =>
        formatRecord([
          ['id', found.id], ['tenant', found.tenantId], ['model', found.model], ['mode', found.mode], ['status', found.status],
          ['tokens', found.tokens], ['messages', found.messages.length], ['ttl', `${found.ttlSeconds} s`],
          ['created', iso(found.createdAt)], ['last used', iso(found.lastUsedAt)], ['expires', iso(found.expiresAt)], ['freed', iso(found.freedAt)],
          ['storage charged', formatMicros(found.storageChargedMicros)],
        ]),
      );
    }),
  );
  storeOptions(context.command('delete').description('Free a context: its storage is charged up to now').argument('<id>')).action(
    handled(async (id: string, options: CommonOptions) => {
      const freed = await withStore(options, async (store) => {
        const contexts = contextsOf(store);
        const found = await contexts.get(null, id);
        if (found === undefined || found.status === 'deleted') throw new CliError(`no context '${id}'`);
        if (found.status === 'expired') throw new CliError(`context expired: '${id}' was already freed`);
        return contexts.free(found, 'deleted');
      });
      emit(options.json, view(freed), () => `${freed.id}: ${freed.status}, storage charged ${formatMicros(freed.storageChargedMicros)}\n`);
    }),
  );
}
