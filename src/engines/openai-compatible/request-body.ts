/**
 * Skylark's generation requests → the upstream's OpenAI wire format. Undefined fields are
 * left out rather than sent as null: several upstreams (llama.cpp, Ollama) reject or
 * misread explicit nulls for sampling options.
 */
import type {
  ChatGeneration,
  ChatMessage,
  CompletionGeneration,
  EmbeddingRequest,
  ResponseFormat,
  SamplingOptions,
  ToolChoice,
  ToolDefinition,
} from '../engine.js';

type Json = Record<string, unknown>;

function put(target: Json, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

function sampling(target: Json, options: SamplingOptions & { user?: string }): void {
  put(target, 'max_tokens', options.maxTokens);
  put(target, 'temperature', options.temperature);
  put(target, 'top_p', options.topP);
  if (options.stop !== undefined && options.stop.length > 0) target.stop = options.stop;
  put(target, 'seed', options.seed);
  put(target, 'presence_penalty', options.presencePenalty);
  put(target, 'frequency_penalty', options.frequencyPenalty);
  put(target, 'logit_bias', options.logitBias);
  put(target, 'user', options.user);
}

export interface BodyOptions {
  /** Send vLLM's `priority` (engine option sendPriority): only a vLLM with --scheduling-policy priority accepts it. */
  sendPriority?: boolean;
}

function priority(target: Json, request: ChatGeneration | CompletionGeneration, options: BodyOptions): void {
  if (options.sendPriority === true) put(target, 'priority', request.priority);
}

function streaming(target: Json, stream: boolean): void {
  target.stream = stream;
  // Without include_usage most upstreams never report usage on a stream.
  if (stream) target.stream_options = { include_usage: true };
}

export function messageBody(message: ChatMessage): Json {
  const hasCalls = message.toolCalls !== undefined && message.toolCalls.length > 0;
  // OpenAI's canonical form for a pure tool-call turn is content null, not ''.
  let content: unknown = hasCalls && message.content === '' ? null : message.content;
  // Images must reach a vision upstream in OpenAI's multi-part form, not flattened.
  if (message.contentParts !== undefined && message.contentParts.length > 0) content = message.contentParts;
  const out: Json = { role: message.role, content };
  put(out, 'name', message.name);
  if (hasCalls) {
    out.tool_calls = message.toolCalls!.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  put(out, 'tool_call_id', message.toolCallId);
  return out;
}

function toolBody(tool: ToolDefinition): Json {
  const fn: Json = { name: tool.name };
  put(fn, 'description', tool.description);
  put(fn, 'parameters', tool.parameters);
  put(fn, 'strict', tool.strict);
  return { type: 'function', function: fn };
}

function toolChoiceBody(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function responseFormatBody(format: ResponseFormat): Json {
  if (format.type !== 'json_schema') return { type: format.type };
  const schema: Json = { name: format.name, schema: format.schema };
  put(schema, 'strict', format.strict);
  return { type: 'json_schema', json_schema: schema };
}

export function chatBody(request: ChatGeneration, options: BodyOptions = {}): Json {
  const body: Json = { model: request.model, messages: request.messages.map(messageBody) };
  streaming(body, request.stream);
  if (request.tools !== undefined && request.tools.length > 0) body.tools = request.tools.map(toolBody);
  if (request.toolChoice !== undefined) body.tool_choice = toolChoiceBody(request.toolChoice);
  put(body, 'parallel_tool_calls', request.parallelToolCalls);
  if (request.responseFormat !== undefined) body.response_format = responseFormatBody(request.responseFormat);
  sampling(body, request);
  priority(body, request, options);
  return body;
}

export function completionBody(request: CompletionGeneration, options: BodyOptions = {}): Json {
  const body: Json = { model: request.model, prompt: request.prompt };
  streaming(body, request.stream);
  put(body, 'echo', request.echo);
  put(body, 'suffix', request.suffix);
  sampling(body, request);
  priority(body, request, options);
  return body;
}

export function embeddingBody(request: EmbeddingRequest): Json {
  const body: Json = { model: request.model, input: request.input, encoding_format: 'float' };
  put(body, 'dimensions', request.dimensions);
  return body;
}

/** The text a local estimate of prompt tokens counts when the upstream reports none. */
export function chatPromptText(request: ChatGeneration): string {
  const pieces: string[] = [];
  for (const message of request.messages) {
    pieces.push(message.content);
    if (message.toolCalls) for (const call of message.toolCalls) pieces.push(call.name, call.arguments);
  }
  return pieces.join('\n');
}

export function completionPromptText(request: CompletionGeneration): string {
  return request.suffix === undefined ? request.prompt : `${request.prompt}\n${request.suffix}`;
}
