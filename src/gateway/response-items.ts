/**
 * Responses API request → engine terms: input items (the earlier turns of a chain first)
 * become chat messages, function tools become tool definitions, `text.format` a response
 * format. What Skylark cannot honour is refused here, naming the field.
 */
import { SkylarkError } from '../core/errors.js';
import type { CreateResponseRequest, WireContentPart, WireFunctionTool, WireInputItem } from '../contracts/response-request.js';
import type { ResponseFunctionToolView, ResponseObject, ResponseToolChoiceView } from '../contracts/response-objects.js';
import type { ChatMessage, ContentPart, ResponseFormat, ToolChoice, ToolDefinition } from '../engines/engine.js';
import type { ModelEntry } from './model-catalog.js';

/** Refuses what would change the answer and is not served here. */
export function assertSupported(request: CreateResponseRequest): void {
  const refuse = (param: string, what: string) => {
    throw new SkylarkError('unsupported_parameter', `${what} is not supported.`, { param });
  };
  if (request.background) refuse('background', 'Background responses');
  if (request.conversation != null) refuse('conversation', 'The Conversations API');
  if (request.prompt != null) refuse('prompt', 'Prompt templates');
  if (request.truncation === 'auto') refuse('truncation', "truncation 'auto'");
  request.tools?.forEach((tool, index) => {
    if (tool.type !== 'function') refuse(`tools[${index}].type`, `The built-in tool '${tool.type}'`);
  });
  const choice = request.tool_choice;
  if (choice != null && typeof choice === 'object' && choice.type !== 'function') refuse('tool_choice', `tool_choice '${choice.type}'`);
}

/**
 * Items → engine messages. Instructions open the conversation as a system message (and are
 * never carried along a chain: each request brings its own). Consecutive function calls
 * join the assistant turn before them, as chat templates expect.
 */
export function toEngineMessages(instructions: string | null | undefined, items: readonly WireInputItem[], model: ModelEntry): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  items.forEach((item, index) => {
    const param = `input[${index}]`;
    switch (item.type) {
      case 'message': {
        const role = item.role === 'developer' ? 'system' : item.role;
        const message: ChatMessage = { role, content: textOf(item.content) };
        if (role === 'user' && Array.isArray(item.content)) {
          const parts = userParts(item.content, `${param}.content`, model);
          if (parts.some((part) => part.type === 'image_url')) message.contentParts = parts;
        }
        messages.push(message);
        break;
      }
      case 'function_call': {
        const call = { id: item.call_id, name: item.name, arguments: item.arguments };
        const last = messages.at(-1);
        if (last?.role === 'assistant') (last.toolCalls ??= []).push(call);
        else messages.push({ role: 'assistant', content: '', toolCalls: [call] });
        break;
      }
      case 'function_call_output':
        messages.push({ role: 'tool', content: textOf(item.output), toolCallId: item.call_id });
        break;
      case 'reasoning':
        break;
    }
  });
  return messages;
}

function textOf(content: string | readonly WireContentPart[]): string {
  if (typeof content === 'string') return content;
  return content
    .map((part) => {
      if (part.type === 'input_text' || part.type === 'output_text') return part.text;
      if (part.type === 'refusal') return part.refusal;
      return '';
    })
    .join('');
}

function userParts(parts: readonly WireContentPart[], param: string, model: ModelEntry): ContentPart[] {
  return parts.map((part, index) => {
    const at = `${param}[${index}]`;
    switch (part.type) {
      case 'input_text':
      case 'output_text':
        return { type: 'text', text: part.text };
      case 'input_image': {
        if (!model.capabilities.includes('vision')) {
          throw new SkylarkError('invalid_request', `The model '${model.id}' does not accept image input.`, { param: at });
        }
        if (!part.image_url) throw new SkylarkError('unsupported_parameter', 'Images by file_id are not supported: send image_url.', { param: at });
        return { type: 'image_url', image_url: { url: part.image_url, ...(part.detail === undefined ? {} : { detail: part.detail }) } };
      }
      default:
        throw new SkylarkError('unsupported_parameter', `Content parts of type '${part.type}' are not supported.`, { param: at });
    }
  });
}

export function toEngineTools(request: CreateResponseRequest, model: ModelEntry): {
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
} {
  const tools = functionTools(request);
  const choice = request.tool_choice ?? undefined;
  if (tools.length === 0) {
    if (typeof choice === 'object' || choice === 'required') {
      throw new SkylarkError('invalid_request', 'tool_choice requires tools.', { param: 'tool_choice' });
    }
    return {};
  }
  if (!model.capabilities.includes('tools')) {
    throw new SkylarkError('invalid_request', `The model '${model.id}' does not support tools.`, { param: 'tools' });
  }
  const toolChoice: ToolChoice | undefined =
    choice === undefined ? undefined : typeof choice === 'string' ? choice : { name: String(choice.name) };
  return {
    tools: tools.map((tool) => ({
      name: tool.name,
      ...(tool.description == null ? {} : { description: tool.description }),
      ...(tool.parameters == null ? {} : { parameters: tool.parameters }),
      ...(tool.strict == null ? {} : { strict: tool.strict }),
    })),
    ...(toolChoice === undefined ? {} : { toolChoice }),
    ...(request.parallel_tool_calls == null ? {} : { parallelToolCalls: request.parallel_tool_calls }),
  };
}

/** The request's tools as the Response object echoes them. */
export function toolViews(request: CreateResponseRequest): ResponseFunctionToolView[] {
  return functionTools(request).map((tool) => ({
    type: 'function',
    name: tool.name,
    description: tool.description ?? null,
    parameters: tool.parameters ?? null,
    strict: tool.strict ?? null,
  }));
}

export function toolChoiceView(request: CreateResponseRequest): ResponseToolChoiceView {
  const choice = request.tool_choice;
  if (choice == null) return 'auto';
  return typeof choice === 'string' ? choice : { type: 'function', name: String(choice.name) };
}

type WireTool = NonNullable<CreateResponseRequest['tools']>[number];

/** The schema admits a `function` tool only in its valid shape; anything else is a built-in tool. */
const isFunctionTool = (tool: WireTool): tool is WireFunctionTool => tool.type === 'function';

function functionTools(request: CreateResponseRequest): WireFunctionTool[] {
  return (request.tools ?? []).filter(isFunctionTool);
}

export function toEngineResponseFormat(request: CreateResponseRequest): ResponseFormat | undefined {
  const format = request.text?.format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return format;
  return { type: 'json_schema', name: format.name, schema: format.schema, ...(format.strict == null ? {} : { strict: format.strict }) };
}

export function textFormatView(request: CreateResponseRequest): ResponseObject['text'] {
  const format = request.text?.format;
  if (!format || format.type !== 'json_schema') return { format: format ?? { type: 'text' } };
  return { format: { type: 'json_schema', name: format.name, schema: format.schema, strict: format.strict ?? null } };
}
