/**
 * `skylark batch list|show|cancel`: the operator's view of every tenant's batches, from
 * the database (a running gateway's runner notices a cancel within `batches.pollMs`).
 */
import type { Command } from 'commander';
import { systemClock } from '../core/clock.js';
import { isSkylarkError } from '../core/errors.js';
import { BatchService } from '../batch/batches.js';
import { DirectoryFileStorage } from '../batch/file-storage.js';
import { FileService } from '../batch/files.js';
import type { Store } from '../store/database.js';
import { CliError, adminCommand, handled, parseInteger, storeOptions, type CommonOptions } from './common-commands.js';
import { withStore } from './store-location.js';
import { emit, formatRecord, formatTable } from './table.js';

interface ListOptions extends CommonOptions {
  tenant?: string;
  status?: string;
  limit: string;
}

/** Batches only; the file storage is never touched by these commands. */
function batchesOf(store: Store): BatchService {
  return new BatchService(store.db, new FileService(store.db, new DirectoryFileStorage('.'), systemClock, 0), systemClock);
}

const when = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : '');

export function registerBatchCommands(program: Command): void {
  const batch = adminCommand(program, 'batch', "Batch jobs of every tenant (OpenAI's Batch API)");
  storeOptions(
    batch
      .command('list')
      .description('Batches, newest first')
      .option('--tenant <id>', 'only this tenant')
      .option('--status <status>', 'only this status (validating, in_progress, completed, …)')
      .option('--limit <n>', 'at most this many', '50'),
  ).action(
    handled(async (options: ListOptions) => {
      const limit = parseInteger('--limit', options.limit, { min: 1, max: 10_000 });
      const rows = await withStore(options, (store) =>
        batchesOf(store).listAll({ limit, ...(options.tenant ? { tenantId: options.tenant } : {}), ...(options.status ? { status: options.status } : {}) }),
      );
      emit(options.json, rows, () =>
        formatTable(
          ['id', 'tenant', 'endpoint', 'status', 'done', 'failed', 'total', 'created'],
          rows.map((b) => [b.id, b.tenant_id, b.endpoint, b.status, b.request_counts.completed, b.request_counts.failed, b.request_counts.total, when(b.created_at)]),
        ),
      );
    }),
  );
  storeOptions(batch.command('show').description('One batch, with its counts, files and errors').argument('<id>')).action(
    handled(async (id: string, options: CommonOptions) => {
      const found = await withStore(options, (store) => batchesOf(store).retrieve(null, id)).catch(asCliError);
      emit(options.json, found, () => {
        const errors = (found.errors?.data ?? []).map((e) => `  line ${e.line ?? '-'}: ${e.code}: ${e.message}`).join('\n');
        return `${formatRecord([
          ['id', found.id], ['endpoint', found.endpoint], ['status', found.status], ['model', found.model ?? ''],
          ['input file', found.input_file_id], ['output file', found.output_file_id ?? ''], ['error file', found.error_file_id ?? ''],
          ['completed', found.request_counts.completed], ['failed', found.request_counts.failed], ['total', found.request_counts.total],
          ['created', when(found.created_at)], ['expires', when(found.expires_at)],
        ])}${errors === '' ? '' : `errors:\n${errors}\n`}`;
      });
    }),
  );
  storeOptions(batch.command('cancel').description('Cancel a batch: running lines stop, finished ones are kept').argument('<id>')).action(
    handled(async (id: string, options: CommonOptions) => {
      const cancelled = await withStore(options, (store) => batchesOf(store).cancel(null, id)).catch(asCliError);
      emit(options.json, cancelled, () => `${cancelled.id}: ${cancelled.status}\n`);
    }),
  );
}

function asCliError(error: unknown): never {
  throw isSkylarkError(error) ? new CliError(error.message) : error;
}
