import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SkylarkError } from '../../core/errors.js';
import { createBatchRequest, listAllBatchesQuery, listBatchesQuery, type BatchService } from '../../batch/batches.js';
import { tooLarge } from '../../batch/file-storage.js';
import { filePurposes, listFilesQuery, type FileService, type StagedFile } from '../../batch/files.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';

const fileTags = ['Files'];
const batchTags = ['Batches'];
const fileId = { id: 'A file id (`file-…`) of your tenant' };
const batchId = { id: 'A batch id (`batch_…`) of your tenant' };
/** The multipart form, for the OpenAPI document only (the route reads the parts itself). */
const uploadForm = z.object({
  file: z.string().meta({ format: 'binary', description: 'The file; for `batch`, JSONL with one request per line.' }),
  purpose: z.enum(filePurposes),
});

export interface BatchApi {
  files: FileService;
  batches: BatchService;
}

/** OpenAI's Files API (`/v1/files`) and Batch API (`/v1/batches`), for the caller's tenant only. */
export function registerBatchRoutes(app: FastifyInstance, api: BatchApi): void {
  const { files, batches } = api;
  const tenantOf = (request: Parameters<typeof principalOf>[0]) => principalOf(request).tenantId;
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id;

  // Multipart is parsed only in this scope: every other route stays JSON-only.
  app.register(async (scope) => {
    await scope.register(multipart, {
      // One byte past the cap reaches the storage, which refuses it with our 413.
      limits: { fileSize: files.maxBytes + 1, files: 1, fields: 10 },
    });
    scope.post(
      '/v1/files',
      documented({ summary: 'Upload a file (multipart/form-data)', tags: fileTags, body: uploadForm, consumes: 'multipart/form-data', errors: [413, 415] }),
      async (request) => {
        if (!request.isMultipart()) {
          throw new SkylarkError('unsupported_media_type', 'Upload a file as multipart/form-data with fields `file` and `purpose`.');
        }
        const tenantId = tenantOf(request);
        let staged: StagedFile | undefined;
        let purpose: unknown;
        try {
          for await (const part of request.parts()) {
            if (part.type === 'file') {
              if (part.fieldname !== 'file' || staged) {
                part.file.resume();
                continue;
              }
              staged = await files.stage(tenantId, part.filename || 'upload', part.file);
            } else if (part.fieldname === 'purpose') {
              purpose = part.value;
            }
          }
        } catch (error) {
          if (staged) await files.discard(staged);
          if ((error as { statusCode?: number }).statusCode === 413) throw tooLarge(files.maxBytes);
          throw error;
        }
        if (!staged) throw new SkylarkError('invalid_request', "Missing required parameter: 'file'.", { param: 'file' });
        try {
          return await files.commit(staged, purpose);
        } catch (error) {
          await files.discard(staged);
          throw error;
        }
      },
    );
  });

  app.get('/v1/files', documented({ summary: "Your tenant's files, newest first", tags: fileTags, query: listFilesQuery }), (request) =>
    files.list(tenantOf(request), request.query),
  );
  app.get('/v1/files/:id', documented({ summary: 'A file', tags: fileTags, params: fileId, errors: [404] }), (request) =>
    files.retrieve(tenantOf(request), idOf(request)),
  );
  app.delete('/v1/files/:id', documented({ summary: 'Delete a file and its content', tags: fileTags, params: fileId, errors: [404] }), (request) =>
    files.delete(tenantOf(request), idOf(request)),
  );
  app.get('/v1/files/:id/content', documented({ summary: "A file's bytes", tags: fileTags, params: fileId, errors: [404] }), async (request, reply) => {
    const { file, content } = await files.content(tenantOf(request), idOf(request));
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`)
      .send(content);
  });

  app.post(
    '/v1/batches',
    documented({ summary: 'Create a batch from an uploaded JSONL file (purpose `batch`)', tags: batchTags, body: createBatchRequest, errors: [404] }),
    (request) => batches.create(principalOf(request), request.body),
  );
  app.get('/v1/batches', documented({ summary: "Your tenant's batches, newest first", tags: batchTags, query: listBatchesQuery }), (request) =>
    batches.list(tenantOf(request), request.query),
  );
  app.get('/v1/batches/:id', documented({ summary: 'A batch and its request counts', tags: batchTags, params: batchId, errors: [404] }), (request) =>
    batches.retrieve(tenantOf(request), idOf(request)),
  );
  app.post(
    '/v1/batches/:id/cancel',
    documented({ summary: 'Cancel a batch: `cancelling` now, `cancelled` once its running lines stop', tags: batchTags, params: batchId, errors: [404] }),
    (request) => batches.cancel(tenantOf(request), idOf(request)),
  );
  app.get(
    '/admin/batches',
    documented({ summary: "Every tenant's batches (or one tenant's), newest first, with progress", tags: batchTags, query: listAllBatchesQuery, errors: [403] }),
    (request) => batches.listForOperator(request.query),
  );
  // The operator may stop any tenant's batch (a runaway one); its output stays the tenant's.
  app.post(
    '/admin/batches/:id/cancel',
    documented({ summary: "Cancel any tenant's batch, as the tenant's own cancel does", tags: batchTags, params: { id: 'A batch id (`batch_…`) of any tenant' }, errors: [403, 404] }),
    (request) => batches.cancel(null, idOf(request)),
  );
}
