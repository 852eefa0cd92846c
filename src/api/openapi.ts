/**
 * The OpenAPI document at /docs/json and Swagger UI at /docs. Route schemas are built
 * from the zod contracts and used for documentation only: they are never given to the
 * serving routes, because validation must stay with zod (whose errors become
 * OpenAI-shaped, naming the `param`), and a response schema given to Fastify's serializer
 * would silently drop every field it does not list.
 *
 * Built on the first request to /docs, not at start: @fastify/swagger, swagger-ui and the
 * JSON Schemas of every route were ≈ 5 MB of a gateway's resident memory that most gateways
 * never serve (docs/benchmarks.md, "Memory"). The serving app records each route as it is
 * declared; the first /docs request builds a second Fastify instance holding swagger, the UI
 * and one stub per recorded route (schema only), and every /docs request is injected into it.
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';

export const docsPrefix = '/docs';

/** Where `documented()` leaves a route's description in its config, for the docs instance. */
const routeDoc = Symbol('skylark.routeDoc');

interface RecordedRoute {
  method: string | string[];
  url: string;
  schema: unknown;
  doc: RouteDoc | undefined;
}

export function registerDocs(app: FastifyInstance): void {
  const routes: RecordedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.url === docsPrefix || route.url.startsWith(`${docsPrefix}/`)) return;
    const config = route.config as Record<symbol, RouteDoc | undefined> | undefined;
    routes.push({ method: route.method, url: route.url, schema: route.schema, doc: config?.[routeDoc] });
  });
  let docs: Promise<FastifyInstance> | undefined;
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    // A failed build is retried by the next request rather than remembered.
    docs ??= buildDocsApp(routes).catch((error: unknown) => {
      docs = undefined;
      throw error;
    });
    const answer = await (await docs).inject({ method: 'GET', url: request.url, headers: { accept: request.headers.accept ?? '*/*' } });
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !notForwarded.has(name)) reply.header(name, value);
    }
    return reply.send(answer.rawPayload);
  };
  app.get(docsPrefix, { schema: { hide: true } }, forward);
  app.get(`${docsPrefix}/*`, { schema: { hide: true } }, forward);
}

const notForwarded = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date']);

async function buildDocsApp(routes: readonly RecordedRoute[]): Promise<FastifyInstance> {
  const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const docs = Fastify({ logger: false });
  await docs.register(swagger, {
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
  await docs.register(swaggerUi, { routePrefix: docsPrefix });
  await docs.register(async (stubs) => {
    for (const route of routes) {
      // HEAD routes are Fastify's own copies of GET ones (and swagger leaves them out).
      const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((method) => method !== 'HEAD');
      if (methods.length === 0) continue;
      const schema = route.doc ? documentSchema(route.doc) : route.schema;
      stubs.route({
        method: methods,
        url: route.url,
        ...(schema ? { schema } : {}),
        validatorCompiler: passThrough,
        serializerCompiler: plainJson,
        handler: async (_request, reply) => reply.code(404).send(),
      });
    }
  });
  await docs.ready();
  return docs;
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

/** Route options that describe a route in the OpenAPI document (built on the first /docs request) without validating by it. */
export function documented(doc: RouteDoc): RouteShorthandOptions {
  return { config: { [routeDoc]: doc } as FastifyContextConfig };
}

function documentSchema(doc: RouteDoc): Record<string, unknown> {
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
  return schema;
}

const errorText: Record<number, string> = {
  400: 'Invalid request: `error.param` names the field',
  401: 'Missing or invalid API key',
  403: 'The key may not do this (the admin API needs the operator key)',
  404: 'No such tenant, key, endpoint, model, file or batch',
  413: 'The upload is larger than the server accepts',
};
