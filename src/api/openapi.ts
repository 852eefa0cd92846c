/**
 * The OpenAPI document at /docs/json and Swagger UI at /docs. Route schemas are built
 * from the zod contracts and used for documentation only: the route's validator and
 * serializer are no-ops, because validation must stay with zod (whose errors become
 * OpenAI-shaped, naming the `param`), and a response schema given to Fastify's serializer
 * would silently drop every field it does not list.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';

export const docsPrefix = '/docs';

export function registerDocs(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Skylark API',
        version: '1',
        description:
          'The OpenAI-compatible gateway (`/v1`), a tenant\'s usage and balance, and the operator\'s admin API (`/admin`, the admin key only). ' +
          'Send the key as `Authorization: Bearer KEY`. Money is integer micro-units (`…_micros`) and exact decimal strings; times are Unix seconds.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  app.register(swaggerUi, { routePrefix: docsPrefix });
}

const errorSchema = {
  type: 'object',
  description: 'OpenAI-shaped error',
  properties: {
    error: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        param: { type: ['string', 'null'] },
        code: { type: 'string' },
      },
      required: ['message', 'type', 'param', 'code'],
    },
  },
  required: ['error'],
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

export interface RouteDoc {
  summary: string;
  tags: string[];
  description?: string;
  /** Path parameters, name → description. */
  params?: Record<string, string>;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body's media type, when it is not JSON (uploads: `multipart/form-data`). */
  consumes?: string;
  /** The success answer; 200 unless `status` says otherwise. */
  response?: z.ZodType;
  status?: number;
  /** Error statuses worth listing beyond 400/401. */
  errors?: number[];
}

const passThrough = () => () => true;
const plainJson = () => (data: unknown) => JSON.stringify(data);

/** Route options that describe a route in the OpenAPI document without validating by it. */
export function documented(doc: RouteDoc): RouteShorthandOptions {
  const response: Record<string, unknown> = {
    [doc.status ?? 200]: doc.response ? { description: 'OK', ...jsonSchema(doc.response, 'output') } : { description: 'OK' },
  };
  for (const status of [400, 401, ...(doc.errors ?? [])]) response[status] = { ...errorSchema, description: errorText[status] ?? 'Error' };
  const schema: Record<string, unknown> = { summary: doc.summary, tags: doc.tags, response };
  if (doc.description) schema.description = doc.description;
  if (doc.params) {
    schema.params = {
      type: 'object',
      properties: Object.fromEntries(Object.entries(doc.params).map(([name, description]) => [name, { type: 'string', description }])),
      required: Object.keys(doc.params),
    };
  }
  if (doc.query) schema.querystring = jsonSchema(doc.query, 'input');
  if (doc.body) schema.body = jsonSchema(doc.body, 'input');
  if (doc.consumes) schema.consumes = [doc.consumes];
  return { schema, validatorCompiler: passThrough, serializerCompiler: plainJson };
}

const errorText: Record<number, string> = {
  400: 'Invalid request: `error.param` names the field',
  401: 'Missing or invalid API key',
  403: 'The key may not do this (the admin API needs the operator key)',
  404: 'No such tenant, key, endpoint, model, file or batch',
  413: 'The upload is larger than the server accepts',
};
