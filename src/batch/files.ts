/**
 * The Files API's use cases (`/v1/files`): a tenant's uploads, their metadata in the
 * `files` table and their bytes in a FileStorage. Every query is scoped to the asking
 * tenant, so another tenant's file id answers exactly like a missing one.
 */
import type { Readable } from 'node:stream';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { parseRequest } from '../contracts/parse.js';
import type { Database, FilesTable } from '../store/schema.js';
import type { FileStorage } from './file-storage.js';

export const filePurposes = ['assistants', 'batch', 'batch_output', 'fine-tune', 'vision', 'user_data', 'evals'] as const;
export type FilePurpose = (typeof filePurposes)[number];

/** OpenAI's `File` object. */
export interface WireFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at?: number;
  filename: string;
  purpose: string;
  status: 'processed';
}

export interface FileList {
  object: 'list';
  data: WireFile[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Bytes written to storage but not yet a file: the multipart form may name its purpose after the file. */
export interface StagedFile {
  id: string;
  tenantId: string;
  filename: string;
  bytes: number;
}

export const listFilesQuery = z.object({
  purpose: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  after: z.string().optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
});

export class FileService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly storage: FileStorage,
    private readonly clock: Clock,
    /** The largest file accepted, in bytes. */
    readonly maxBytes: number,
  ) {}

  /** Streams an upload into storage (413 past maxBytes); `commit` or `discard` it next. */
  async stage(tenantId: string, filename: string, content: Readable): Promise<StagedFile> {
    const id = newId('file');
    const bytes = await this.storage.put(storageKey(tenantId, id), content, this.maxBytes);
    return { id, tenantId, filename, bytes };
  }

  async discard(staged: StagedFile): Promise<void> {
    await this.storage.delete(storageKey(staged.tenantId, staged.id));
  }

  /** Makes a staged upload a file of `purpose` (validated here, whichever order the form had). */
  async commit(staged: StagedFile, purpose: unknown): Promise<WireFile> {
    if (typeof purpose !== 'string' || purpose === '') {
      throw new SkylarkError('invalid_request', "Missing required parameter: 'purpose'.", { param: 'purpose' });
    }
    if (!(filePurposes as readonly string[]).includes(purpose)) {
      throw new SkylarkError('invalid_request', `Invalid value for 'purpose': expected one of ${filePurposes.join(', ')}.`, {
        param: 'purpose',
      });
    }
    const row = {
      id: staged.id,
      tenant_id: staged.tenantId,
      filename: staged.filename,
      purpose,
      bytes: staged.bytes,
      storage_key: storageKey(staged.tenantId, staged.id),
      created_at: this.clock.wallNow().getTime(),
      expires_at: null,
    };
    await this.db.insertInto('files').values(row).execute();
    return toWireFile(row);
  }

  /** A file written by Skylark itself (a batch's output), with a fixed id so a retried write replaces it. */
  async writeOwn(tenantId: string, id: string, filename: string, purpose: FilePurpose, content: AsyncIterable<string>): Promise<WireFile> {
    const key = storageKey(tenantId, id);
    const bytes = await this.storage.put(key, content, Number.MAX_SAFE_INTEGER);
    const row = { id, tenant_id: tenantId, filename, purpose, bytes, storage_key: key, created_at: this.clock.wallNow().getTime(), expires_at: null };
    await this.db.deleteFrom('files').where('id', '=', id).where('tenant_id', '=', tenantId).execute();
    await this.db.insertInto('files').values(row).execute();
    return toWireFile(row);
  }

  async retrieve(tenantId: string, id: string): Promise<WireFile> {
    return toWireFile(await this.row(tenantId, id));
  }

  async content(tenantId: string, id: string): Promise<{ file: WireFile; content: Readable }> {
    const row = await this.row(tenantId, id);
    return { file: toWireFile(row), content: await this.storage.get(row.storage_key) };
  }

  async delete(tenantId: string, id: string): Promise<{ id: string; object: 'file'; deleted: true }> {
    const row = await this.row(tenantId, id);
    await this.db.deleteFrom('files').where('id', '=', id).where('tenant_id', '=', tenantId).execute();
    await this.storage.delete(row.storage_key);
    return { id, object: 'file', deleted: true };
  }

  /** Newest first by default; `after` is the last id of the previous page. */
  async list(tenantId: string, query: unknown): Promise<FileList> {
    const { purpose, limit, after, order } = parseRequest(listFilesQuery, query ?? {});
    let select = this.db.selectFrom('files').selectAll().where('tenant_id', '=', tenantId);
    if (purpose !== undefined) select = select.where('purpose', '=', purpose);
    if (after !== undefined) {
      const cursor = await this.row(tenantId, after, 'after');
      const before = order === 'desc' ? '<' : '>';
      select = select.where((eb) =>
        eb.or([
          eb('created_at', before, cursor.created_at),
          eb.and([eb('created_at', '=', cursor.created_at), eb('id', before, cursor.id)]),
        ]),
      );
    }
    const rows = await select.orderBy('created_at', order).orderBy('id', order).limit(limit + 1).execute();
    const data = rows.slice(0, limit).map(toWireFile);
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > limit };
  }

  /** The tenant's file, or the same 404 whether it is missing or another tenant's. */
  async row(tenantId: string, id: string, param = 'file_id'): Promise<Selectable<FilesTable>> {
    const row = await this.db.selectFrom('files').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw new SkylarkError('not_found', `No such File object: ${id}`, { param });
    return row;
  }

  /** Reads a stored file as text lines, without holding the whole file in memory. */
  async open(row: Selectable<FilesTable>): Promise<Readable> {
    return this.storage.get(row.storage_key);
  }
}

function storageKey(tenantId: string, fileId: string): string {
  return `${tenantId}/${fileId}`;
}

function toWireFile(row: Selectable<FilesTable>): WireFile {
  return {
    id: row.id,
    object: 'file',
    bytes: Number(row.bytes),
    created_at: Math.floor(Number(row.created_at) / 1000),
    ...(row.expires_at === null ? {} : { expires_at: Math.floor(Number(row.expires_at) / 1000) }),
    filename: row.filename,
    purpose: row.purpose,
    status: 'processed',
  };
}
