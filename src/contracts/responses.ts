/**
 * Response shapes Skylark sends, as OpenAI defines them (validated against OpenAI's
 * published spec in tests). Types only: the gateway builds them, the web app reads them.
 */
export type WireFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface WireToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: null;
      tool_calls?: WireToolCall[];
      reasoning_content?: string;
    };
    logprobs: null;
    finish_reason: WireFinishReason;
  }>;
  usage: WireUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      reasoning_content?: string;
      tool_calls?: WireToolCallDelta[];
      refusal?: null;
    };
    logprobs: null;
    finish_reason: WireFinishReason | null;
  }>;
  usage?: WireUsage | null;
}

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{ index: number; text: string; logprobs: null; finish_reason: WireFinishReason | null }>;
  usage?: WireUsage | null;
}

export interface EmbeddingList {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export type ModelCapability =
  | 'chat' | 'completions' | 'embeddings' | 'tools' | 'vision' | 'json_schema'
  | 'images' | 'speech' | 'transcription';

export interface WireModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Skylark's additions, ignored by OpenAI clients. */
  family: string;
  tier: string;
  context_window: number | null;
  capabilities: ModelCapability[];
  engine: string;
  ready: boolean;
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}
