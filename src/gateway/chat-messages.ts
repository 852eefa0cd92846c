import { SkylarkError } from '../core/errors.js';
import type { ChatCompletionRequest, WireChatMessage } from '../contracts/chat-request.js';
import type { ChatMessage, ContentPart, ResponseFormat, ToolChoice, ToolDefinition } from '../engines/engine.js';
import type { ModelEntry } from './model-catalog.js';

/** OpenAI wire messages → engine messages; images only reach models that can see. */
export function toEngineMessages(messages: readonly WireChatMessage[], model: ModelEntry): ChatMessage[] {
  return messages.map((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: flattenText(message.content) };
      case 'user': {
        const out: ChatMessage = { role: 'user', content: flattenText(message.content) };
        if (Array.isArray(message.content)) {
          const parts = userParts(message.content, index, model);
          if (parts.some((part) => part.type === 'image_url')) out.contentParts = parts;
        }
        if (message.name !== undefined) out.name = message.name;
        return out;
      }
      case 'assistant': {
        const out: ChatMessage = { role: 'assistant', content: flattenText(message.content ?? '') };
        if (message.tool_calls && message.tool_calls.length > 0) {
          out.toolCalls = message.tool_calls.map((call) => ({
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          }));
        }
        return out;
      }
      case 'tool':
        return { role: 'tool', content: flattenText(message.content), toolCallId: message.tool_call_id };
    }
  });
}

function flattenText(content: string | ReadonlyArray<{ type: string; text?: string; refusal?: string }>): string {
  if (typeof content === 'string') return content;
  return content.map((part) => part.text ?? part.refusal ?? '').join('');
}

function userParts(parts: ReadonlyArray<{ type: string }>, index: number, model: ModelEntry): ContentPart[] {
  return parts.map((part, partIndex) => {
    const param = `messages[${index}].content[${partIndex}]`;
    if (part.type === 'text') return part as ContentPart;
    if (part.type === 'image_url') {
      if (!model.capabilities.includes('vision')) {
        throw new SkylarkError('invalid_request', `The model '${model.id}' does not accept image input.`, { param });
      }
      return part as ContentPart;
    }
    throw new SkylarkError('unsupported_parameter', `Content parts of type '${part.type}' are not supported.`, {
      param,
    });
  });
}

export function toEngineTools(request: ChatCompletionRequest, model: ModelEntry): {
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
} {
  if (!request.tools || request.tools.length === 0) {
    if (typeof request.tool_choice === 'object' || request.tool_choice === 'required') {
      throw new SkylarkError('invalid_request', 'tool_choice requires tools.', { param: 'tool_choice' });
    }
    return {};
  }
  if (!model.capabilities.includes('tools')) {
    throw new SkylarkError('invalid_request', `The model '${model.id}' does not support tools.`, { param: 'tools' });
  }
  const tools = request.tools.map(({ function: fn }) => ({
    name: fn.name,
    ...(fn.description === undefined ? {} : { description: fn.description }),
    ...(fn.parameters === undefined ? {} : { parameters: fn.parameters }),
    ...(fn.strict == null ? {} : { strict: fn.strict }),
  }));
  const choice = request.tool_choice;
  const toolChoice: ToolChoice | undefined =
    choice === undefined ? undefined : typeof choice === 'string' ? choice : { name: choice.function.name };
  return {
    tools,
    ...(toolChoice === undefined ? {} : { toolChoice }),
    ...(request.parallel_tool_calls === undefined ? {} : { parallelToolCalls: request.parallel_tool_calls }),
  };
}

export function toEngineResponseFormat(request: ChatCompletionRequest): ResponseFormat | undefined {
  const format = request.response_format;
  if (!format) return undefined;
  if (format.type !== 'json_schema') return format;
  return {
    type: 'json_schema',
    name: format.json_schema.name,
    schema: format.json_schema.schema ?? {},
    ...(format.json_schema.strict == null ? {} : { strict: format.json_schema.strict }),
  };
}
