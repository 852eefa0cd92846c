import type { ChatHistoryItem } from 'node-llama-cpp';
import type { JsonSchema, ToolDefinition } from '../engine.js';

/**
 * `tool_choice: "required"` or a named function. node-llama-cpp's native function calling
 * lets the model decide; to force a call we describe the tools in a system message and
 * constrain the output with a JSON-schema grammar of `{"name", "arguments"}`, so the
 * answer is a well-formed call by construction.
 */
export function forcedCallSchema(tools: readonly ToolDefinition[]): JsonSchema {
  const variants = tools.map((tool) => ({
    type: 'object',
    properties: {
      name: { const: tool.name },
      arguments: tool.parameters ?? { type: 'object', properties: {} },
    },
    required: ['name', 'arguments'],
  }));
  return variants.length === 1 ? variants[0]! : { oneOf: variants };
}

export function withToolInstructions(history: ChatHistoryItem[], tools: readonly ToolDefinition[]): ChatHistoryItem[] {
  const catalogue = tools
    .map((tool) => {
      const description = tool.description ? ` — ${tool.description}` : '';
      return `- ${tool.name}${description}\n  parameters: ${JSON.stringify(tool.parameters ?? {})}`;
    })
    .join('\n');
  const instructions =
    'You must answer with a single function call as JSON: {"name": <function name>, "arguments": <object>}.\n' +
    `Available functions:\n${catalogue}`;
  const [first, ...rest] = history;
  if (first?.type === 'system') {
    const text = typeof first.text === 'string' ? first.text : '';
    return [{ type: 'system', text: `${text}\n\n${instructions}` }, ...rest];
  }
  return [{ type: 'system', text: instructions }, ...history];
}

export interface ParsedForcedCall {
  name: string;
  arguments: string;
}

export function parseForcedCall(text: string): ParsedForcedCall | undefined {
  try {
    const value = JSON.parse(text) as { name?: unknown; arguments?: unknown };
    if (typeof value.name !== 'string') return undefined;
    return { name: value.name, arguments: JSON.stringify(value.arguments ?? {}) };
  } catch {
    // A call cut short by max_tokens is not valid JSON: the caller reports finish 'length'.
    return undefined;
  }
}
