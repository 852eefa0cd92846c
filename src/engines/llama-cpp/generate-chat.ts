import { LlamaChat, LlamaText, type ChatHistoryItem, type ChatModelFunctions, type LlamaGrammar, type Token } from 'node-llama-cpp';
import { newId } from '../../core/ids.js';
import { SkylarkError } from '../../core/errors.js';
import type { Usage } from '../../core/usage.js';
import type { ChatGeneration, GenerationPart, ToolDefinition } from '../engine.js';
import { toChatHistory, toChatModelFunctions } from './chat-history.js';
import type { LoadedLlama } from './engine.js';
import { forcedCallSchema, parseForcedCall, withToolInstructions } from './forced-tool-call.js';
import { resolveMaxTokens } from './context-limits.js';
import { toLlamaSampling } from './sampling.js';
import { streamedRun } from './streamed-run.js';
import { responseFormatGrammar } from './response-format.js';

type ToolMode = { kind: 'none' } | { kind: 'auto'; functions: ChatModelFunctions } | { kind: 'forced'; tools: ToolDefinition[] };

/** The prompt tokens a chat request renders to: what generateChat evaluates, counted without generating. */
export function countChatPromptTokens(loaded: LoadedLlama, request: ChatGeneration): number {
  const toolMode = resolveToolMode(request);
  let history = toChatHistory(request.messages);
  if (toolMode.kind === 'forced') history = withToolInstructions(history, toolMode.tools);
  return renderPrompt(loaded, history, toolMode.kind === 'auto' ? toolMode.functions : undefined).length;
}

/**
 * Evaluates a chat prompt into the free sequence sharing most of it, without generating:
 * the sequence pool leases by longest common prefix, so the next request starting with
 * this prompt (a cached context's turns) reuses its KV cache for as long as that sequence
 * is not overwritten by other work.
 */
export async function prefillChat(loaded: LoadedLlama, request: ChatGeneration): Promise<{ promptTokens: number; cachedTokens: number }> {
  const toolMode = resolveToolMode(request);
  let history = toChatHistory(request.messages);
  if (toolMode.kind === 'forced') history = withToolInstructions(history, toolMode.tools);
  const tokens = renderPrompt(loaded, history, toolMode.kind === 'auto' ? toolMode.functions : undefined);
  if (tokens.length >= loaded.contextSize) {
    throw new SkylarkError('context_length_exceeded', `The context has ${tokens.length} tokens; this model holds at most ${loaded.contextSize - 1}.`, { param: 'messages' });
  }
  const lease = await loaded.pool.acquire(tokens, request.signal);
  try {
    const { sequence } = lease;
    const keep = lease.cachedTokens;
    if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(keep));
    return { promptTokens: tokens.length, cachedTokens: keep };
  } finally {
    lease.release();
  }
}

/** One chat completion on the in-process model, as a stream of parts. */
export async function* generateChat(loaded: LoadedLlama, request: ChatGeneration): AsyncGenerator<GenerationPart> {
  const { model, chatWrapper, pool } = loaded;
  const toolMode = resolveToolMode(request);
  let history = toChatHistory(request.messages);
  let grammar: LlamaGrammar | undefined;
  if (toolMode.kind === 'forced') {
    history = withToolInstructions(history, toolMode.tools);
    grammar = await loaded.llama.createGrammarForJsonSchema(forcedCallSchema(toolMode.tools) as never);
  } else if (request.responseFormat && request.responseFormat.type !== 'text') {
    if (toolMode.kind === 'auto') {
      throw new SkylarkError(
        'unsupported_parameter',
        'response_format cannot be combined with tools on this model; use tool_choice "none" or drop response_format.',
        { param: 'response_format' },
      );
    }
    grammar = await responseFormatGrammar(loaded.llama, request.responseFormat);
  }
  const functions = toolMode.kind === 'auto' ? toolMode.functions : undefined;

  const promptTokens = renderPrompt(loaded, history, functions);
  const maxTokens = resolveMaxTokens(promptTokens.length, request.maxTokens, loaded.contextSize);
  const sampling = toLlamaSampling(request, model, loaded.vocabularySize);
  const lease = await pool.acquire(promptTokens, request.signal);
  const usage: Usage = { promptTokens: promptTokens.length, completionTokens: 0, cachedPromptTokens: lease.cachedTokens };

  yield* streamedRun(lease, usage, request.signal, async (run) => {
    const chat = new LlamaChat({ contextSequence: lease.sequence, chatWrapper });
    const calls = new Map<number, string>();
    let forcedText = '';
    try {
      const result = await chat.generateResponse(history, {
        ...sampling,
        repeatPenalty: sampling.repeatPenalty ?? false,
        maxTokens,
        signal: run.signal,
        stopOnAbortSignal: true,
        documentFunctionParams: true,
        ...(functions ? { functions } : {}),
        ...(grammar ? { grammar } : {}),
        onResponseChunk: (chunk) => {
          run.countTokens(chunk.tokens.length);
          if (chunk.text === '') return;
          if (chunk.type === 'segment') {
            if (chunk.segmentType === 'thought') run.emit({ type: 'reasoning-delta', text: chunk.text });
          } else if (toolMode.kind === 'forced') {
            forcedText += chunk.text;
          } else {
            run.emit({ type: 'text-delta', text: chunk.text });
          }
        },
        onFunctionCallParamsChunk: (chunk) => {
          const known = calls.get(chunk.callIndex);
          const id = known ?? newId('call');
          calls.set(chunk.callIndex, id);
          run.emit({
            type: 'tool-call-delta',
            index: chunk.callIndex,
            ...(known ? {} : { id, name: chunk.functionName }),
            argumentsDelta: chunk.paramsChunk,
          });
        },
      } as Parameters<LlamaChat['generateResponse']>[1]);

      for (const call of result.functionCalls ?? []) {
        run.countTokens(LlamaText.fromJSON(call.raw).tokenize(model.tokenizer).length);
      }
      if (result.metadata.stopReason === 'eogToken') run.countTokens(1);
      if (toolMode.kind === 'forced') return finishForcedCall(run.emit, forcedText, result.metadata.stopReason);
      const { metadata } = result;
      if (metadata.stopReason === 'customStopTrigger') {
        // The trigger as the client sent it (it is one of request.stop, as text).
        const stopSequence = metadata.customStopTrigger.filter((piece): piece is string => typeof piece === 'string').join('');
        return { stopReason: metadata.stopReason, stopSequence };
      }
      return { stopReason: metadata.stopReason };
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  });
}

function resolveToolMode(request: ChatGeneration): ToolMode {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? 'auto';
  if (tools.length === 0 || choice === 'none') return { kind: 'none' };
  if (choice === 'auto') return { kind: 'auto', functions: toChatModelFunctions(tools) };
  if (choice === 'required') return { kind: 'forced', tools };
  const named = tools.find((tool) => tool.name === choice.name);
  if (!named) {
    throw new SkylarkError('invalid_request', `tool_choice names '${choice.name}', which is not in tools.`, {
      param: 'tool_choice',
    });
  }
  return { kind: 'forced', tools: [named] };
}

/** The exact tokens LlamaChat will evaluate: the model's chat template over the history. */
function renderPrompt(loaded: LoadedLlama, history: ChatHistoryItem[], functions: ChatModelFunctions | undefined): Token[] {
  const chatHistory = history.at(-1)?.type === 'model' ? history : [...history, { type: 'model' as const, response: [] }];
  const { contextText } = loaded.chatWrapper.generateContextState({
    chatHistory,
    ...(functions ? { availableFunctions: functions } : {}),
    documentFunctionParams: true,
  });
  return contextText.tokenize(loaded.model.tokenizer);
}

function finishForcedCall(
  emit: (part: GenerationPart) => void,
  text: string,
  stopReason: string,
): { stopReason: 'maxTokens' | 'functionCalls' | 'abort' } {
  if (stopReason === 'abort') return { stopReason: 'abort' };
  const call = parseForcedCall(text);
  if (!call) return { stopReason: 'maxTokens' };
  emit({ type: 'tool-call-delta', index: 0, id: newId('call'), name: call.name, argumentsDelta: call.arguments });
  return { stopReason: 'functionCalls' };
}
