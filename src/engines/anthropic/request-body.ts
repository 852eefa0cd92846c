/**
 * Skylark's chat generation → an Anthropic Messages request body. System messages join
 * into `system`; tool results become `tool_result` blocks of a user turn; an assistant's
 * tool calls become `tool_use` blocks; consecutive turns of one role merge (Anthropic
 * wants user and assistant to alternate); image parts become image blocks.
 */
import { SkylarkError } from '../../core/errors.js';
import type { ChatGeneration, ChatMessage, ContentPart, ToolChoice } from '../engine.js';

type Json = Record<string, unknown>;
type Turn = { role: 'user' | 'assistant'; content: Json[] };

/** Anthropic requires max_tokens; a request without one gets this ceiling. */
export const defaultMaxTokens = 4096;

export function messagesBody(request: ChatGeneration, options: { countOnly?: boolean } = {}): Json {
  const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const turns: Turn[] = [];
  const push = (role: Turn['role'], blocks: Json[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  request.messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        return;
      case 'user':
        return push('user', userBlocks(message, index));
      case 'tool':
        return push('user', [{ type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content }]);
      case 'assistant':
        return push('assistant', assistantBlocks(message, index));
    }
  });
  const body: Json = { model: request.model, messages: turns };
  if (system !== '') body.system = system;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      input_schema: tool.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = toolChoiceBody(request.toolChoice, request.parallelToolCalls);
    if (choice !== undefined) body.tool_choice = choice;
  }
  if (options.countOnly) return body;
  body.max_tokens = request.maxTokens ?? defaultMaxTokens;
  body.stream = request.stream;
  if (request.temperature !== undefined) body.temperature = Math.min(1, request.temperature);
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.topK !== undefined) body.top_k = request.topK;
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  return body;
}

function userBlocks(message: ChatMessage, index: number): Json[] {
  const parts: ContentPart[] = message.contentParts ?? [{ type: 'text', text: message.content }];
  return parts.flatMap((part): Json[] => {
    if (part.type === 'text') return part.text === '' ? [] : [{ type: 'text', text: part.text }];
    return [{ type: 'image', source: imageSource(part.image_url.url, index) }];
  });
}

function imageSource(url: string, index: number): Json {
  const data = /^data:(image\/[\w.+-]+);base64,(.*)$/s.exec(url);
  if (data) return { type: 'base64', media_type: data[1], data: data[2] };
  if (/^https?:\/\//.test(url)) return { type: 'url', url };
  throw new SkylarkError('invalid_request', 'An image must be an http(s) URL or a base64 data URL.', { param: `messages[${index}].content` });
}

function assistantBlocks(message: ChatMessage, index: number): Json[] {
  const blocks: Json[] = message.content === '' ? [] : [{ type: 'text', text: message.content }];
  for (const call of message.toolCalls ?? []) {
    let input: unknown;
    try {
      input = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      throw new SkylarkError('invalid_request', 'Tool call arguments are not valid JSON.', { param: `messages[${index}].tool_calls` });
    }
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input });
  }
  return blocks;
}

function toolChoiceBody(choice: ToolChoice | undefined, parallel: boolean | undefined): Json | undefined {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...noParallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...noParallel };
  if (choice === 'required') return { type: 'any', ...noParallel };
  return { type: 'tool', name: choice.name, ...noParallel };
}

/** The text a local estimate of prompt tokens counts when the upstream reports none. */
export function promptText(request: ChatGeneration): string {
  return request.messages.flatMap((m) => [m.content, ...(m.toolCalls ?? []).map((c) => c.arguments)]).join('\n');
}
