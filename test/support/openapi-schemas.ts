/**
 * Validation of Skylark responses against OpenAI's published OpenAPI spec.
 *
 * The spec is vendored at `test/fixtures/openai/openapi.yaml` (source commit and
 * licence beside it), so a plain clone tests on its own. It is OpenAPI 3.1 (~3 MB of YAML) but still carries OpenAPI 3.0-isms:
 * `nullable: true`, boolean `exclusiveMinimum`, `discriminator`, `x-*`
 * extensions and a draft 2019-09 `$recursiveRef`. `components.schemas` is
 * converted once into plain JSON Schema 2020-12 and cached on disk under
 * `<repo>/.test-data/openapi-cache.json` (keyed by the spec's size + mtime and
 * a converter version), so later test files/processes skip the YAML parse.
 *
 * Usage:
 *   expectOpenAI('CreateChatCompletionResponse', body);      // throws on mismatch
 *   const errors = validateOpenAI('ErrorResponse', body);     // string[]; [] = valid
 *
 * Only keywords that OpenAPI adds are converted or dropped; `additionalProperties`,
 * `required`, `enum`, etc. are kept exactly as OpenAI wrote them.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

// ajv and ajv-formats are CommonJS: `module.exports` is the class/plugin itself and
// also carries `.default`, which is what TypeScript's NodeNext typing exposes.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;
type Ajv = InstanceType<typeof Ajv2020>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Bump when `convertSchema` changes so stale caches are ignored. */
const CONVERTER_VERSION = 1;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Absolute path of OpenAI's OpenAPI spec used for validation. */
export const OPENAI_SPEC_PATH = path.join(REPO_ROOT, 'test', 'fixtures', 'openai', 'openapi.yaml');
const CACHE_PATH = path.join(REPO_ROOT, '.test-data', 'openapi-cache.json');
const DOC_ID = 'https://skylark.invalid/openai/openapi.json';

// ---------------------------------------------------------------------------
// OpenAPI -> JSON Schema 2020-12 conversion
// ---------------------------------------------------------------------------

/** Keywords whose value is a map of name -> schema. */
const SCHEMA_MAP_KEYS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Keywords whose value is a single schema. */
const SCHEMA_KEYS = new Set([
  'items',
  'additionalProperties',
  'additionalItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
]);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
/** OpenAPI-only or purely descriptive keywords: dropped (smaller cache, no Ajv noise). */
const DROP_KEYS = new Set([
  'description',
  'example',
  'examples',
  'discriminator',
  'xml',
  'externalDocs',
  '$recursiveAnchor',
]);
/** A nullable schema with any of these cannot become nullable by widening `type`. */
const COMPOSITE_KEYS = ['$ref', 'allOf', 'anyOf', 'oneOf', 'not', 'const', 'if'];

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Convert one (sub)schema. `recursiveTarget` is the `$ref` that a `$recursiveRef: "#"`
 * resolves to: the enclosing component declaring `$recursiveAnchor: true`.
 */
function convertSchema(schema: Json, recursiveTarget: string | undefined, formats: Set<string>): Json {
  if (Array.isArray(schema)) return schema.map((s) => convertSchema(s, recursiveTarget, formats));
  if (!isObject(schema)) return schema;

  let out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROP_KEYS.has(key) || key.startsWith('x-')) continue;
    if (SCHEMA_MAP_KEYS.has(key) && isObject(value)) {
      const mapped: JsonObject = {};
      for (const [name, sub] of Object.entries(value)) mapped[name] = convertSchema(sub, recursiveTarget, formats);
      out[key] = mapped;
    } else if (SCHEMA_KEYS.has(key) || SCHEMA_LIST_KEYS.has(key)) {
      out[key] = convertSchema(value, recursiveTarget, formats);
    } else if (key === '$recursiveRef') {
      if (value !== '#' || recursiveTarget === undefined) {
        throw new Error(`openapi-schemas: unsupported $recursiveRef ${JSON.stringify(value)}`);
      }
      out.$ref = recursiveTarget;
    } else {
      // Data-valued keywords (enum, const, default, required, type, ...) are copied verbatim.
      out[key] = value;
    }
  }

  if (typeof out.format === 'string') formats.add(out.format);

  // OpenAPI 3.0 boolean exclusiveMinimum/exclusiveMaximum -> 2020-12 numeric form.
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[exclusive] !== 'boolean') continue;
    if (out[exclusive] === true && typeof out[bound] === 'number') {
      out[exclusive] = out[bound];
      delete out[bound];
    } else {
      delete out[exclusive];
    }
  }

  if ('nullable' in out) {
    const nullable = out.nullable === true;
    delete out.nullable;
    if (nullable) out = makeNullable(out);
  }
  return out;
}

function makeNullable(schema: JsonObject): JsonObject {
  if (COMPOSITE_KEYS.some((k) => k in schema)) {
    return { anyOf: [schema, { type: 'null' }] };
  }
  const result: JsonObject = { ...schema };
  if (typeof result.type === 'string') {
    result.type = result.type === 'null' ? 'null' : [result.type, 'null'];
  } else if (Array.isArray(result.type) && !result.type.includes('null')) {
    result.type = [...result.type, 'null'];
  }
  if (Array.isArray(result.enum) && !result.enum.includes(null)) {
    result.enum = [...result.enum, null];
  }
  // No type and no enum: the schema already accepts null.
  return result;
}

interface ConvertedSpec {
  schemas: JsonObject;
  formats: string[];
}

function convertComponents(rawSchemas: JsonObject): ConvertedSpec {
  const formats = new Set<string>();
  const schemas: JsonObject = {};
  for (const [name, schema] of Object.entries(rawSchemas)) {
    const recursive = isObject(schema) && schema.$recursiveAnchor === true;
    const target = recursive ? `#/components/schemas/${escapePointer(name)}` : undefined;
    schemas[name] = convertSchema(schema, target, formats);
  }
  return { schemas, formats: [...formats].sort() };
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

// ---------------------------------------------------------------------------
// Loading (with on-disk cache)
// ---------------------------------------------------------------------------

interface CacheFile extends ConvertedSpec {
  key: string;
}

function cacheKey(specPath: string): string {
  const st = statSync(specPath);
  return `v${CONVERTER_VERSION}:${st.size}:${st.mtimeMs}`;
}

function readCache(key: string): ConvertedSpec | undefined {
  try {
    const cached = JSON.parse(readFileSync(CACHE_PATH, 'utf8')) as Partial<CacheFile>;
    if (cached.key === key && isObject(cached.schemas as Json) && Array.isArray(cached.formats)) {
      return { schemas: cached.schemas as JsonObject, formats: cached.formats };
    }
  } catch {
    // missing or corrupt cache: rebuild
  }
  return undefined;
}

function writeCache(key: string, spec: ConvertedSpec): void {
  try {
    mkdirSync(path.dirname(CACHE_PATH), { recursive: true });
    // Write-then-rename so concurrent test processes never see a partial file.
    const tmp = `${CACHE_PATH}.${process.pid}.${Date.now()}.tmp`;
    const body: CacheFile = { key, ...spec };
    writeFileSync(tmp, JSON.stringify(body));
    renameSync(tmp, CACHE_PATH);
  } catch {
    // The cache is an optimisation only (e.g. read-only checkout).
  }
}

function loadSpec(): ConvertedSpec {
  let key: string;
  try {
    key = cacheKey(OPENAI_SPEC_PATH);
  } catch (err) {
    throw new Error(
      `openapi-schemas: OpenAI spec not found at ${OPENAI_SPEC_PATH} ` +
        `(vendored in the repository; see test/fixtures/openai/SOURCE.md): ${(err as Error).message}`,
    );
  }
  const cached = readCache(key);
  if (cached) return cached;

  const doc = parseYaml(readFileSync(OPENAI_SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as unknown;
  const rawSchemas = isObject(doc) && isObject(doc.components) ? doc.components.schemas : undefined;
  if (!isObject(rawSchemas)) {
    throw new Error(`openapi-schemas: ${OPENAI_SPEC_PATH} has no components.schemas`);
  }
  const converted = convertComponents(rawSchemas);
  writeCache(key, converted);
  return converted;
}

interface State {
  ajv: Ajv;
  schemas: JsonObject;
  validators: Map<string, ValidateFunction>;
}

let state: State | undefined;

function getState(): State {
  if (state) return state;
  const spec = loadSpec();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // OpenAI uses formats Ajv does not know (unixtime, ...): accept them as annotations.
  for (const format of spec.formats) {
    if (!ajv.formats[format]) ajv.addFormat(format, true);
  }
  // One document holding every component so `#/components/schemas/X` resolves.
  ajv.addSchema({ $id: DOC_ID, components: { schemas: spec.schemas } });
  state = { ajv, schemas: spec.schemas, validators: new Map() };
  return state;
}

function getValidator(schemaName: string): ValidateFunction {
  const s = getState();
  let validate = s.validators.get(schemaName);
  if (validate) return validate;
  if (!Object.prototype.hasOwnProperty.call(s.schemas, schemaName)) {
    const needle = schemaName.toLowerCase();
    const similar = Object.keys(s.schemas)
      .filter((n) => n.toLowerCase().includes(needle) || needle.includes(n.toLowerCase()))
      .slice(0, 10);
    throw new Error(
      `openapi-schemas: no schema #/components/schemas/${schemaName} in ${OPENAI_SPEC_PATH}` +
        (similar.length ? ` (similar: ${similar.join(', ')})` : ''),
    );
  }
  validate = s.ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${escapePointer(schemaName)}` });
  s.validators.set(schemaName, validate);
  return validate;
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** Names of all schemas under `#/components/schemas` in OpenAI's spec. */
export function openAISchemaNames(): string[] {
  return Object.keys(getState().schemas);
}

/**
 * Validate `value` against `#/components/schemas/<schemaName>` of OpenAI's spec.
 * Returns human-readable errors (empty when valid). Throws if the schema name is unknown.
 */
export function validateOpenAI(schemaName: string, value: unknown): string[] {
  const validate = getValidator(schemaName);
  if (validate(value)) return [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) seen.add(formatError(err, value));
  return [...seen];
}

/** Throw an Error listing every mismatch of `value` against the named OpenAI schema. */
export function expectOpenAI(schemaName: string, value: unknown): void {
  const errors = validateOpenAI(schemaName, value);
  if (errors.length === 0) return;
  let shown: string;
  try {
    shown = JSON.stringify(value);
  } catch {
    shown = String(value);
  }
  if (shown !== undefined && shown.length > 2000) shown = `${shown.slice(0, 2000)}…`;
  throw new Error(
    `Value does not match OpenAI schema ${schemaName} (${errors.length} error${errors.length === 1 ? '' : 's'}):\n` +
      errors.map((e) => `  - ${e}`).join('\n') +
      `\nValue: ${shown}`,
  );
}

function formatError(err: ErrorObject, root: unknown): string {
  const where = err.instancePath === '' ? '(root)' : err.instancePath;
  let msg = err.message ?? `failed ${err.keyword}`;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'enum':
      msg += ` ${JSON.stringify(params.allowedValues)}`;
      break;
    case 'const':
      msg += ` ${JSON.stringify(params.allowedValue)}`;
      break;
    case 'additionalProperties':
      msg += ` '${String(params.additionalProperty)}'`;
      break;
    default:
      break;
  }
  if (['type', 'enum', 'const', 'format', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength'].includes(err.keyword)) {
    const actual = getPointer(root, err.instancePath);
    let text = JSON.stringify(actual) ?? String(actual);
    if (text.length > 80) text = `${text.slice(0, 80)}…`;
    msg += `, got ${text}`;
  }
  return `${where}: ${msg}`;
}

function getPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
