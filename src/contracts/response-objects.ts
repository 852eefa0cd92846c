/**
 * The Responses API's objects and stream events as Skylark sends them (validated against
 * OpenAI's published spec in tests). Types only.
 */
export type ResponseStatus = 'completed' | 'failed' | 'in_progress' | 'incomplete';
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: [];
  logprobs: [];
}

export interface ReasoningTextPart {
  type: 'reasoning_text';
  text: string;
}

export interface OutputMessageItem {
  id: string;
  type: 'message';
  role: 'assistant';
  status: ItemStatus;
  content: OutputTextPart[];
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: ItemStatus;
  call_id: string;
  name: string;
  arguments: string;
}

export interface ReasoningItem {
  id: string;
  type: 'reasoning';
  status: ItemStatus;
  summary: [];
  content: ReasoningTextPart[];
}

export type OutputItem = OutputMessageItem | FunctionCallItem | ReasoningItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** ResponseErrorCode in OpenAI's spec is a closed list: Skylark's codes map onto it. */
export interface ResponseErrorObject {
  code: 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';
  message: string;
}

export interface ResponseFunctionToolView {
  type: 'function';
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}

export type ResponseToolChoiceView = 'none' | 'auto' | 'required' | { type: 'function'; name: string };

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  completed_at: number | null;
  error: ResponseErrorObject | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: Record<string, unknown> | null;
  store: boolean;
  temperature: number | null;
  top_p: number | null;
  text: { format: { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict: boolean | null } };
  tool_choice: ResponseToolChoiceView;
  tools: ResponseFunctionToolView[];
  truncation: 'disabled';
  /** Present once the response has finished. */
  usage?: ResponseUsage;
  user?: string;
  safety_identifier: string | null;
  metadata: Record<string, string>;
}

interface Sequenced {
  sequence_number: number;
}

type Lifecycle = 'response.created' | 'response.in_progress' | 'response.completed' | 'response.incomplete' | 'response.failed';

export type ResponseStreamEvent = Sequenced &
  (
    | { type: Lifecycle; response: ResponseObject }
    | { type: 'response.output_item.added' | 'response.output_item.done'; output_index: number; item: OutputItem }
    | {
        type: 'response.content_part.added' | 'response.content_part.done';
        item_id: string;
        output_index: number;
        content_index: number;
        part: OutputTextPart | ReasoningTextPart;
      }
    | { type: 'response.output_text.delta'; item_id: string; output_index: number; content_index: number; delta: string; logprobs: [] }
    | { type: 'response.output_text.done'; item_id: string; output_index: number; content_index: number; text: string; logprobs: [] }
    | { type: 'response.reasoning_text.delta'; item_id: string; output_index: number; content_index: number; delta: string }
    | { type: 'response.reasoning_text.done'; item_id: string; output_index: number; content_index: number; text: string }
    | { type: 'response.function_call_arguments.delta'; item_id: string; output_index: number; delta: string }
    | { type: 'response.function_call_arguments.done'; item_id: string; output_index: number; name: string; arguments: string }
  );

/** What a stream event is, before the writer numbers it. */
export type UnnumberedEvent = ResponseStreamEvent extends infer E ? (E extends Sequenced ? Omit<E, 'sequence_number'> : never) : never;

export interface DeletedResponse {
  id: string;
  object: 'response';
  deleted: true;
}

export interface ResponseItemList {
  object: 'list';
  data: Array<Record<string, unknown>>;
  first_id: string;
  last_id: string;
  has_more: boolean;
}
