/**
 * Anthropic Messages requests → Skylark's engine terms. The engine interface speaks
 * OpenAI-shaped chat (system / user / assistant with tool calls / tool results), so a
 * user turn's `tool_result` blocks become tool messages, an assistant turn's `tool_use`
 * blocks become its tool calls, and image blocks become image parts for models that see.
 */
import { SkylarkError } from '../core/errors.js';
import type {
  AnthropicCountTokensRequest,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicToolChoice,
} from '../contracts/anthropic-messages.js';
import type { ChatMessage, ContentPart, SamplingOptions, ToolChoice, ToolDefinition } from '../engines/engine.js';
import type { ModelEntry } from './model-catalog.js';

type Block = Exclude<AnthropicMessageParam['content'], string>[number];
type ImageBlock = Extract<Block, { type: 'image' }>;

export function toEngineMessagesFromAnthropic(request: AnthropicCountTokensRequest, model: ModelEntry): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = typeof request.system === 'string' ? request.system : (request.system ?? []).map((block) => block.text).join('\n');
  if (system !== '') out.push({ role: 'system', content: system });
  request.messages.forEach((message, index) => {
    if (message.role === 'user') out.push(...userTurn(message.content, index, model));
    else out.push(assistantTurn(message.content, index));
  });
  return out;
}

function userTurn(content: AnthropicMessageParam['content'], index: number, model: ModelEntry): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const results: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  content.forEach((block, blockIndex) => {
    const param = `messages[${index}].content[${blockIndex}]`;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: (block as { text: string }).text });
        break;
      case 'image':
        parts.push(imagePart(block as ImageBlock, model, param));
        break;
      case 'tool_result': {
        const result = block as Extract<Block, { type: 'tool_result' }>;
        // Tool results carry text to the model; an image inside one is refused rather than dropped.
        const text =
          typeof result.content === 'string'
            ? result.content
            : (result.content ?? []).map((part, partIndex) => {
                if (part.type === 'text') return part.text;
                throw new SkylarkError('unsupported_parameter', 'Images inside tool_result blocks are not supported.', {
                  param: `${param}.content[${partIndex}]`,
                });
              }).join('\n');
        results.push({ role: 'tool', content: result.is_error ? `Error: ${text}` : text, toolCallId: result.tool_use_id });
        break;
      }
      default:
        throw unsupportedBlock(block.type, param, 'user');
    }
  });
  const messages = [...results];
  if (parts.length > 0) {
    const message: ChatMessage = { role: 'user', content: parts.map((part) => (part.type === 'text' ? part.text : '')).join('') };
    if (parts.some((part) => part.type === 'image_url')) message.contentParts = parts;
    messages.push(message);
  }
  return messages;
}

function assistantTurn(content: AnthropicMessageParam['content'], index: number): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text = '';
  const toolCalls: NonNullable<ChatMessage['toolCalls']> = [];
  content.forEach((block, blockIndex) => {
    switch (block.type) {
      case 'text':
        text += (block as { text: string }).text;
        break;
      case 'tool_use': {
        const use = block as Extract<Block, { type: 'tool_use' }>;
        toolCalls.push({ id: use.id, name: use.name, arguments: JSON.stringify(use.input) });
        break;
      }
      case 'thinking':
      case 'redacted_thinking':
        // Earlier turns' reasoning is not part of the prompt the model sees (as with Anthropic's models).
        break;
      default:
        throw unsupportedBlock(block.type, `messages[${index}].content[${blockIndex}]`, 'assistant');
    }
  });
  return { role: 'assistant', content: text, ...(toolCalls.length > 0 ? { toolCalls } : {}) };
}

function imagePart(block: ImageBlock, model: ModelEntry, param: string): ContentPart {
  if (!model.capabilities.includes('vision')) {
    throw new SkylarkError('invalid_request', `The model '${model.id}' does not accept image input.`, { param });
  }
  const { source } = block;
  const url = source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : source.url;
  return { type: 'image_url', image_url: { url } };
}

function unsupportedBlock(type: string, param: string, role: string): SkylarkError {
  return new SkylarkError('unsupported_parameter', `Content blocks of type '${type}' are not supported in ${role} messages.`, { param });
}

export function toEngineToolsFromAnthropic(
  request: AnthropicCountTokensRequest,
  model: ModelEntry,
): { tools?: ToolDefinition[]; toolChoice?: ToolChoice; parallelToolCalls?: boolean } {
  const choice = request.tool_choice;
  if (!request.tools || request.tools.length === 0) {
    if (choice && (choice.type === 'any' || choice.type === 'tool')) {
      throw new SkylarkError('invalid_request', 'tool_choice requires tools.', { param: 'tool_choice' });
    }
    return {};
  }
  if (!model.capabilities.includes('tools')) {
    throw new SkylarkError('invalid_request', `The model '${model.id}' does not support tools.`, { param: 'tools' });
  }
  const tools = request.tools.map((tool, index): ToolDefinition => {
    // Anthropic's server tools (web search, code execution…) run on Anthropic's side: none exist here.
    if ((tool.type !== undefined && tool.type !== 'custom') || tool.input_schema === undefined) {
      throw new SkylarkError('unsupported_parameter', `Tool '${tool.name}' is a server tool (type '${tool.type ?? 'none'}'); only custom tools with an input_schema are supported.`, {
        param: `tools[${index}]`,
      });
    }
    return { name: tool.name, parameters: tool.input_schema, ...(tool.description === undefined ? {} : { description: tool.description }) };
  });
  const toolChoice = choice === undefined ? undefined : toToolChoice(choice);
  if (toolChoice !== undefined && typeof toolChoice === 'object' && !tools.some((tool) => tool.name === toolChoice.name)) {
    throw new SkylarkError('invalid_request', `tool_choice names '${toolChoice.name}', which is not in tools.`, { param: 'tool_choice.name' });
  }
  const disableParallel = choice !== undefined && choice.type !== 'none' && choice.disable_parallel_tool_use === true;
  return {
    tools,
    ...(toolChoice === undefined ? {} : { toolChoice }),
    ...(disableParallel ? { parallelToolCalls: false } : {}),
  };
}

function toToolChoice(choice: AnthropicToolChoice): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { name: choice.name };
  }
}

export function toSamplingFromAnthropic(request: AnthropicMessagesRequest): SamplingOptions {
  const options: SamplingOptions = { maxTokens: request.max_tokens };
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.top_p !== undefined) options.topP = request.top_p;
  if (request.top_k !== undefined) options.topK = request.top_k;
  const stop = (request.stop_sequences ?? []).filter((sequence) => sequence !== '');
  if (stop.length > 0) options.stop = stop;
  return options;
}

/** `anthropic-version` / `anthropic-beta` as the client sent them, for Anthropic-speaking upstreams. */
export function anthropicClientHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['anthropic-version', 'anthropic-beta']) {
    const value = headers[name];
    const text = Array.isArray(value) ? value.join(',') : value;
    if (text !== undefined && text !== '') out[name] = text;
  }
  return out;
}
