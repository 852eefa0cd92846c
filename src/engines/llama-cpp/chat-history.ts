import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse } from 'node-llama-cpp';
import { SkylarkError } from '../../core/errors.js';
import type { ChatMessage, ToolDefinition } from '../engine.js';

/**
 * OpenAI's flat message list → node-llama-cpp's chat history, where a model turn holds its
 * text and its function calls together with their results. An assistant message with
 * tool_calls and the tool messages that answer it become one model response, so the
 * model's own chat template renders the exchange the way it was trained to see it.
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const pendingCalls = new Map<string, ChatModelFunctionCall>();

  const currentModelResponse = (): ChatModelResponse => {
    const last = history.at(-1);
    if (last?.type === 'model') return last;
    const response: ChatModelResponse = { type: 'model', response: [] };
    history.push(response);
    return response;
  };

  messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        break;
      case 'user':
        history.push({ type: 'user', text: message.content });
        break;
      case 'assistant': {
        const response = currentModelResponse();
        if (message.content) response.response.push(message.content);
        for (const call of message.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: 'functionCall',
            name: call.name,
            params: parseArguments(call.arguments, `messages[${index}].tool_calls`),
            result: undefined,
          };
          response.response.push(item);
          pendingCalls.set(call.id, item);
        }
        break;
      }
      case 'tool': {
        const call = message.toolCallId === undefined ? undefined : pendingCalls.get(message.toolCallId);
        if (!call) {
          throw new SkylarkError(
            'invalid_request',
            `messages[${index}] is a tool result for tool_call_id '${message.toolCallId ?? ''}', which no earlier assistant message called.`,
            { param: `messages[${index}].tool_call_id` },
          );
        }
        call.result = message.content;
        break;
      }
    }
  });
  return history;
}

function parseArguments(text: string, param: string): unknown {
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new SkylarkError('invalid_request', `Tool call arguments are not valid JSON.`, { param });
  }
}

export function toChatModelFunctions(tools: readonly ToolDefinition[]): ChatModelFunctions {
  const functions: Record<string, { description?: string; params?: never }> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description === undefined ? {} : { description: tool.description }),
      ...(tool.parameters === undefined ? {} : { params: tool.parameters as never }),
    };
  }
  return functions as ChatModelFunctions;
}
