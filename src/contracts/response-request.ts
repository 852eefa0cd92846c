/**
 * `POST /v1/responses` (OpenAI's Responses API) as Skylark accepts it. Unknown fields are
 * ignored, as for chat (Codex and the SDKs send fields faster than any gateway adds them);
 * fields that would change the answer and that Skylark cannot honour are refused by the
 * use case with `unsupported_parameter`, naming the field.
 */
import { z } from 'zod';

const imageDetail = z.enum(['auto', 'low', 'high']);

const inputText = z.object({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.object({
  type: z.literal('input_image'),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().nullish(),
  detail: imageDetail.optional(),
});
const inputFile = z.object({ type: z.literal('input_file') }).passthrough();
/** An assistant turn sent back as input (Codex keeps its own history this way). */
const outputText = z.object({ type: z.literal('output_text'), text: z.string() }).passthrough();
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });

export const contentPartSchema = z.discriminatedUnion('type', [inputText, inputImage, inputFile, outputText, refusal]);

const messageItem = z.object({
  type: z.literal('message'),
  id: z.string().nullish(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(contentPartSchema)]),
  status: z.string().nullish(),
});

const functionCallItem = z.object({
  type: z.literal('function_call'),
  id: z.string().nullish(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: z.string().nullish(),
});

const functionCallOutputItem = z.object({
  type: z.literal('function_call_output'),
  id: z.string().nullish(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(contentPartSchema)]),
  status: z.string().nullish(),
});

/** Reasoning items clients send back: they carry nothing an engine here can read, and are dropped. */
const reasoningItem = z.object({ type: z.literal('reasoning') }).passthrough();

/** A message item may leave out `type` (OpenAI's "easy input message"). */
export const inputItemSchema = z.preprocess(
  (item) => (item !== null && typeof item === 'object' && !('type' in item) && 'role' in item ? { ...item, type: 'message' } : item),
  z.discriminatedUnion('type', [messageItem, functionCallItem, functionCallOutputItem, reasoningItem]),
);

export type WireInputItem = z.infer<typeof inputItemSchema>;
export type WireContentPart = z.infer<typeof contentPartSchema>;

const functionTool = z.object({
  type: z.literal('function'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, underscores or dashes'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
/** Built-in tools (web search, file search, …) are named so the refusal can say which. */
const notFunction = z.string().refine((type) => type !== 'function', 'is a function tool with invalid fields');
const otherTool = z.object({ type: notFunction }).passthrough();

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1) }),
  z.object({ type: notFunction }).passthrough(),
]);

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    description: z.string().optional(),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullish(),
  }),
]);

export const createResponseRequestSchema = z.object({
  model: z.string().min(1),
  /** A string is one user message: as a list, a bad item's error names the item (`input[2].type`). */
  input: z.preprocess((input) => (typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : input), z.array(inputItemSchema)),
  instructions: z.string().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(z.union([functionTool, otherTool])).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  text: z.object({ format: textFormat.optional(), verbosity: z.string().nullish() }).nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((value) => Object.keys(value).length <= 16, 'at most 16 keys')
    .nullish(),
  user: z.string().nullish(),
  safety_identifier: z.string().max(64).nullish(),
  /** Accepted and ignored (Codex sends it): no engine here reasons on request. */
  reasoning: z.record(z.string(), z.unknown()).nullish(),
  background: z.boolean().nullish(),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
});

export type CreateResponseRequest = z.infer<typeof createResponseRequestSchema>;
export type WireFunctionTool = z.infer<typeof functionTool>;
export type WireTextFormat = z.infer<typeof textFormat>;

/** `GET /v1/responses/{id}/input_items` */
export const inputItemsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().optional(),
});
