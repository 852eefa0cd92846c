/**
 * The Batch API's use cases (`/v1/batches`): create (the batch starts `validating`; a
 * runner takes it from there, see batch-runner.ts), retrieve, list, cancel. Like files,
 * every query is scoped to the asking tenant.
 */
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import { randomString } from '../core/ids.js';
import { parseRequest } from '../contracts/parse.js';
import type { Principal } from '../tenancy/access.js';
import type { BatchesTable, BatchStatus, Database } from '../store/schema.js';
import type { BatchError } from './batch-input.js';
import type { FileService } from './files.js';

export const batchEndpoints = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;
export type BatchEndpoint = (typeof batchEndpoints)[number];

const completionWindowMs = 24 * 3600 * 1000;

/** Statuses a runner still has work in; the rest are final. */
export const activeStatuses: readonly BatchStatus[] = ['validating', 'in_progress', 'finalizing', 'cancelling'];

export const createBatchRequest = z.object({
  input_file_id: z.string().min(1),
  endpoint: z.enum(batchEndpoints),
  completion_window: z.literal('24h'),
  metadata: z.record(z.string().max(64), z.string().max(512)).refine((m) => Object.keys(m).length <= 16, 'at most 16 keys').nullish(),
  output_expires_after: z.unknown().optional(),
});

export const listBatchesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().optional(),
});

/** `GET /admin/batches`: every tenant's, or one tenant's, newest first. */
export const listAllBatchesQuery = z.object({
  tenant_id: z.string().min(1).optional(),
  status: z
    .enum(['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] satisfies BatchStatus[])
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export type BatchRow = Selectable<BatchesTable>;

export interface LineCounts {
  total: number;
  completed: number;
  failed: number;
}

export class BatchService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly files: FileService,
    private readonly clock: Clock,
  ) {}

  async create(principal: Principal, body: unknown) {
    const request = parseRequest(createBatchRequest, body);
    const file = await this.files.row(principal.tenantId, request.input_file_id, 'input_file_id');
    if (file.purpose !== 'batch') {
      throw new SkylarkError('invalid_request', `File ${file.id} has purpose '${file.purpose}'; a batch's input file must have purpose 'batch'.`, {
        param: 'input_file_id',
      });
    }
    const now = this.clock.wallNow().getTime();
    const row = {
      id: `batch_${randomString(24)}`,
      tenant_id: principal.tenantId,
      api_key_id: principal.keyId,
      endpoint: request.endpoint,
      input_file_id: file.id,
      completion_window: request.completion_window,
      status: 'validating' as const,
      model: null,
      metadata: request.metadata ? JSON.stringify(request.metadata) : null,
      errors: null,
      output_file_id: null,
      error_file_id: null,
      total: 0,
      created_at: now,
      expires_at: now + completionWindowMs,
      in_progress_at: null,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      owner: null,
      heartbeat_at: null,
    };
    await this.db.insertInto('batches').values(row).execute();
    return toWireBatch(row, { total: 0, completed: 0, failed: 0 });
  }

  /** `tenantId` null: any tenant's (the operator's CLI). */
  async retrieve(tenantId: string | null, id: string) {
    const row = await this.row(tenantId, id);
    return toWireBatch(row, (await this.counts([row])).get(row.id)!);
  }

  /** Newest first; `after` is the last id of the previous page. */
  async list(tenantId: string, query: unknown) {
    const { limit, after } = parseRequest(listBatchesQuery, query ?? {});
    let select = this.db.selectFrom('batches').selectAll().where('tenant_id', '=', tenantId);
    if (after !== undefined) {
      const cursor = await this.row(tenantId, after, 'after');
      select = select.where((eb) =>
        eb.or([eb('created_at', '<', cursor.created_at), eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)])]),
      );
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const counts = await this.counts(page);
    const data = page.map((row) => toWireBatch(row, counts.get(row.id)!));
    return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > limit };
  }

  /** `GET /admin/batches`: the operator's view, with each batch's tenant. */
  async listForOperator(query: unknown) {
    const { tenant_id, status, limit } = parseRequest(listAllBatchesQuery, query ?? {});
    const data = await this.listAll({ limit, ...(tenant_id === undefined ? {} : { tenantId: tenant_id }), ...(status === undefined ? {} : { status }) });
    return { object: 'list' as const, data };
  }

  /** Every tenant's batches, newest first (the operator's CLI), optionally of one tenant or status. */
  async listAll(filter: { tenantId?: string; status?: string; limit: number }) {
    let select = this.db.selectFrom('batches').selectAll();
    if (filter.tenantId !== undefined) select = select.where('tenant_id', '=', filter.tenantId);
    if (filter.status !== undefined) select = select.where('status', '=', filter.status as BatchStatus);
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    const counts = await this.counts(rows);
    return rows.map((row) => ({ tenant_id: row.tenant_id, ...toWireBatch(row, counts.get(row.id)!) }));
  }

  /**
   * Asks the runner to stop: the batch becomes `cancelling` at once, and `cancelled` (with
   * the lines already finished in its output) once its running lines have stopped.
   */
  async cancel(tenantId: string | null, id: string) {
    const row = await this.row(tenantId, id);
    if (row.status === 'validating' || row.status === 'in_progress') {
      const now = this.clock.wallNow().getTime();
      await this.db
        .updateTable('batches')
        .set({ status: 'cancelling', cancelling_at: now })
        .where('id', '=', id)
        .where('status', 'in', ['validating', 'in_progress'])
        .execute();
    } else if (row.status !== 'cancelling' && row.status !== 'cancelled') {
      throw new SkylarkError('invalid_request', `Cannot cancel a batch with status '${row.status}'.`, { param: 'batch_id' });
    }
    return this.retrieve(tenantId, id);
  }

  async row(tenantId: string | null, id: string, param = 'batch_id'): Promise<BatchRow> {
    let select = this.db.selectFrom('batches').selectAll().where('id', '=', id);
    if (tenantId !== null) select = select.where('tenant_id', '=', tenantId);
    const row = await select.executeTakeFirst();
    if (!row) throw new SkylarkError('not_found', `No batch found with id '${id}'.`, { param });
    return row;
  }

  /** Finished lines per batch, in one GROUP BY. */
  private async counts(rows: readonly BatchRow[]): Promise<Map<string, LineCounts>> {
    const counts = new Map(rows.map((row) => [row.id, { total: Number(row.total), completed: 0, failed: 0 }]));
    if (rows.length === 0) return counts;
    const grouped = await this.db
      .selectFrom('batch_lines')
      .select(['batch_id', 'status', (eb) => eb.fn.countAll().as('n')])
      .where('batch_id', 'in', rows.map((row) => row.id))
      .where('status', '!=', 'pending')
      .groupBy(['batch_id', 'status'])
      .execute();
    for (const { batch_id, status, n } of grouped) {
      const entry = counts.get(batch_id)!;
      if (status === 'ok') entry.completed = Number(n);
      else entry.failed = Number(n);
    }
    return counts;
  }
}

type BatchTime = 'created_at' | 'in_progress_at' | 'expires_at' | 'finalizing_at' | 'completed_at' | 'failed_at' | 'expired_at' | 'cancelling_at' | 'cancelled_at';
const batchTimes: readonly BatchTime[] = ['created_at', 'in_progress_at', 'expires_at', 'finalizing_at', 'completed_at', 'failed_at', 'expired_at', 'cancelling_at', 'cancelled_at'];

/** OpenAI's `Batch` object; timestamps in seconds, absent ones left out. */
export type WireBatch = {
  id: string;
  object: 'batch';
  endpoint: string;
  errors?: { object: 'list'; data: BatchError[] };
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  model?: string;
  output_file_id?: string;
  error_file_id?: string;
  request_counts: LineCounts;
  metadata: Record<string, string> | null;
} & { created_at: number } & Partial<Record<BatchTime, number>>;

export function toWireBatch(row: BatchRow, counts: LineCounts): WireBatch {
  const wire: WireBatch = {
    id: row.id,
    object: 'batch',
    endpoint: row.endpoint,
    ...(row.errors === null ? {} : { errors: { object: 'list' as const, data: JSON.parse(row.errors) as BatchError[] } }),
    input_file_id: row.input_file_id,
    completion_window: row.completion_window,
    status: row.status,
    ...(row.model === null ? {} : { model: row.model }),
    ...(row.output_file_id === null ? {} : { output_file_id: row.output_file_id }),
    ...(row.error_file_id === null ? {} : { error_file_id: row.error_file_id }),
    created_at: Math.floor(Number(row.created_at) / 1000),
    request_counts: counts,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, string>),
  };
  for (const key of batchTimes) {
    const ms = row[key];
    if (ms !== null) wire[key] = Math.floor(Number(ms) / 1000);
  }
  return wire;
}
