import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { SkylarkError } from '../../core/errors.js';
import type { BatchService } from '../../batch/batches.js';
import { tooLarge } from '../../batch/file-storage.js';
import type { FileService, StagedFile } from '../../batch/files.js';
import { principalOf } from '../principal.js';

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
    scope.post('/v1/files', async (request) => {
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
    });
  });

  app.get('/v1/files', (request) => files.list(tenantOf(request), request.query));
  app.get('/v1/files/:id', (request) => files.retrieve(tenantOf(request), idOf(request)));
  app.delete('/v1/files/:id', (request) => files.delete(tenantOf(request), idOf(request)));
  app.get('/v1/files/:id/content', async (request, reply) => {
    const { file, content } = await files.content(tenantOf(request), idOf(request));
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`)
      .send(content);
  });

  app.post('/v1/batches', (request) => batches.create(principalOf(request), request.body));
  app.get('/v1/batches', (request) => batches.list(tenantOf(request), request.query));
  app.get('/v1/batches/:id', (request) => batches.retrieve(tenantOf(request), idOf(request)));
  app.post('/v1/batches/:id/cancel', (request) => batches.cancel(tenantOf(request), idOf(request)));
}
