/**
 * The OpenAPI document at /docs/json describes the Anthropic, media, Files and Batch
 * routes like the others: a summary and tag each, the request body from the same zod
 * schema the route parses with, and uploads as multipart/form-data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let sky: TestPlatform;
let paths: Record<string, Record<string, any>>;

beforeAll(async () => {
  sky = await startTestPlatform({
    engines: { sim: { kind: 'sim', slots: 1, answerTokens: 4, timeScale: 0.05 } },
    models: [{ id: 'sim-chat', engine: 'sim', capabilities: ['chat'] }],
  });
  const doc = await fetch(`${sky.url}/docs/json`);
  expect(doc.status).toBe(200);
  paths = (await doc.json()).paths;
}, 60_000);

afterAll(async () => {
  await sky?.close();
});

describe('/docs/json', () => {
  it('lists every Anthropic, media, Files and Batch route with a summary and a tag', () => {
    const routes: Array<[string, string]> = [
      ['/v1/messages', 'post'],
      ['/v1/messages/count_tokens', 'post'],
      ['/v1/images/generations', 'post'],
      ['/v1/audio/speech', 'post'],
      ['/v1/audio/transcriptions', 'post'],
      ['/v1/files', 'post'],
      ['/v1/files', 'get'],
      ['/v1/files/{id}', 'get'],
      ['/v1/files/{id}', 'delete'],
      ['/v1/files/{id}/content', 'get'],
      ['/v1/batches', 'post'],
      ['/v1/batches', 'get'],
      ['/v1/batches/{id}', 'get'],
      ['/v1/batches/{id}/cancel', 'post'],
      ['/admin/batches', 'get'],
    ];
    for (const [path, method] of routes) {
      const operation = paths[path]?.[method];
      expect(operation, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(operation.summary, path).toMatch(/\w/);
      expect(operation.tags, path).toHaveLength(1);
    }
  });

  it('gives request bodies from the zod schemas, uploads as multipart', () => {
    const json = (path: string) => paths[path]!.post.requestBody.content['application/json'].schema;
    expect(json('/v1/messages').required).toEqual(expect.arrayContaining(['model', 'messages', 'max_tokens']));
    expect(json('/v1/images/generations').required).toEqual(expect.arrayContaining(['model', 'prompt']));
    expect(json('/v1/audio/speech').required).toEqual(expect.arrayContaining(['model', 'input', 'voice']));
    expect(json('/v1/batches').properties.endpoint.enum).toEqual(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);
    const upload = paths['/v1/files']!.post.requestBody.content['multipart/form-data'].schema;
    expect(upload.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(upload.properties.purpose.enum).toContain('batch');
    const audio = paths['/v1/audio/transcriptions']!.post.requestBody.content['multipart/form-data'].schema;
    expect(Object.keys(audio.properties)).toEqual(expect.arrayContaining(['file', 'model']));
    const batchList = paths['/v1/batches']!.get.parameters.map((p: { name: string }) => p.name);
    expect(batchList).toEqual(expect.arrayContaining(['limit', 'after']));
    const adminList = paths['/admin/batches']!.get.parameters.map((p: { name: string }) => p.name);
    expect(adminList).toEqual(expect.arrayContaining(['tenant_id', 'status', 'limit']));
  });
});
