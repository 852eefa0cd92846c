import { describe, it, expect } from 'vitest';
import { expectOpenAI, openAISchemaNames, validateOpenAI } from './openapi-schemas.js';

const CORE_SCHEMAS = [
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'CreateCompletionResponse',
  'CreateEmbeddingResponse',
  'ListModelsResponse',
  'Model',
  'ErrorResponse',
] as const;

const usage = { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 };

function chatCompletion(): Record<string, unknown> {
  return {
    id: 'chatcmpl-abc123',
    object: 'chat.completion',
    created: 1_741_569_952,
    model: 'qwen2.5-0.5b-instruct',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello! How can I help?', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
  };
}

function chunk(choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-abc123',
    object: 'chat.completion.chunk',
    created: 1_741_569_952,
    model: 'qwen2.5-0.5b-instruct',
    choices,
    ...extra,
  };
}

function choicesOf(body: Record<string, unknown>): Array<Record<string, unknown>> {
  return body.choices as Array<Record<string, unknown>>;
}

describe('openapi-schemas', () => {
  it('finds and compiles the schemas Skylark responses are checked against', () => {
    const names = new Set(openAISchemaNames());
    for (const name of CORE_SCHEMAS) {
      expect(names.has(name), name).toBe(true);
      // An empty object is never a valid response: compiles and reports errors.
      expect(validateOpenAI(name, {}).length, name).toBeGreaterThan(0);
    }
  });

  it('throws on an unknown schema name', () => {
    expect(() => validateOpenAI('NoSuchSchema', {})).toThrow(/NoSuchSchema/);
  });

  describe('valid values pass', () => {
    it('chat completion response', () => {
      expectOpenAI('CreateChatCompletionResponse', chatCompletion());
      const withExtras = {
        ...chatCompletion(),
        system_fingerprint: 'fp_skylark',
        service_tier: 'default',
        usage: {
          ...usage,
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      };
      expectOpenAI('CreateChatCompletionResponse', withExtras);
    });

    it('chat completion response with tool calls', () => {
      const body = chatCompletion();
      choicesOf(body)[0] = {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      };
      expectOpenAI('CreateChatCompletionResponse', body);
    });

    it('stream chunks, including the include_usage chunk with empty choices', () => {
      expectOpenAI(
        'CreateChatCompletionStreamResponse',
        chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
      );
      expectOpenAI(
        'CreateChatCompletionStreamResponse',
        chunk([{ index: 0, delta: { content: 'Hel' }, finish_reason: null }], { usage: null }),
      );
      expectOpenAI(
        'CreateChatCompletionStreamResponse',
        chunk([
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] },
            finish_reason: null,
          },
        ]),
      );
      expectOpenAI('CreateChatCompletionStreamResponse', chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      expectOpenAI('CreateChatCompletionStreamResponse', chunk([], { usage }));
    });

    it('legacy completion response', () => {
      expectOpenAI('CreateCompletionResponse', {
        id: 'cmpl-abc123',
        object: 'text_completion',
        created: 1_741_569_952,
        model: 'qwen2.5-0.5b-instruct',
        choices: [{ index: 0, text: ' world', logprobs: null, finish_reason: 'length' }],
        usage,
      });
    });

    it('embedding response', () => {
      expectOpenAI('CreateEmbeddingResponse', {
        object: 'list',
        model: 'nomic-embed-text',
        data: [
          { object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] },
          { object: 'embedding', index: 1, embedding: [0, 1, 0] },
        ],
        usage: { prompt_tokens: 5, total_tokens: 5 },
      });
    });

    it('model list and model', () => {
      const model = { id: 'qwen2.5-0.5b-instruct', object: 'model', created: 1_741_569_952, owned_by: 'skylark' };
      expectOpenAI('Model', model);
      expectOpenAI('ListModelsResponse', { object: 'list', data: [model] });
      expectOpenAI('ListModelsResponse', { object: 'list', data: [] });
    });

    it('error response', () => {
      expectOpenAI('ErrorResponse', {
        error: { message: 'The model `nope` does not exist', type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
      });
      expectOpenAI('ErrorResponse', {
        error: { message: 'Rate limit reached', type: 'rate_limit_error', param: null, code: null },
      });
    });
  });

  describe('invalid values fail with the field named', () => {
    it('missing choices', () => {
      const body = chatCompletion();
      delete body.choices;
      const errors = validateOpenAI('CreateChatCompletionResponse', body);
      expect(errors.join('\n')).toMatch(/required property 'choices'/);
      expect(() => expectOpenAI('CreateChatCompletionResponse', body)).toThrow(/choices/);
    });

    it('wrong object value', () => {
      const errors = validateOpenAI('CreateChatCompletionResponse', { ...chatCompletion(), object: 'chat.completion.chunk' });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^\/object: .*chat\.completion.*got "chat\.completion\.chunk"/);
      expect(validateOpenAI('CreateChatCompletionStreamResponse', chunk([], { object: 'chat.completion' })).join('\n')).toMatch(
        /\/object/,
      );
    });

    it('bogus finish_reason', () => {
      const body = chatCompletion();
      choicesOf(body)[0]!.finish_reason = 'bogus';
      expect(validateOpenAI('CreateChatCompletionResponse', body).join('\n')).toMatch(/\/choices\/0\/finish_reason: .*"bogus"/);
      const streamErrors = validateOpenAI(
        'CreateChatCompletionStreamResponse',
        chunk([{ index: 0, delta: {}, finish_reason: 'bogus' }]),
      );
      expect(streamErrors.join('\n')).toMatch(/\/choices\/0\/finish_reason/);
    });

    it('created as a string', () => {
      const errors = validateOpenAI('CreateChatCompletionResponse', { ...chatCompletion(), created: '1741569952' });
      expect(errors).toEqual(['/created: must be integer, got "1741569952"']);
      expect(() => expectOpenAI('Model', { id: 'm', object: 'model', created: 'now', owned_by: 'x' })).toThrow(/\/created/);
    });

    it('expectOpenAI lists every error', () => {
      const body = { ...chatCompletion(), created: 'x', object: 'nope' };
      let message = '';
      try {
        expectOpenAI('CreateChatCompletionResponse', body);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/CreateChatCompletionResponse \(2 errors\)/);
      expect(message).toMatch(/- \/created: must be integer/);
      expect(message).toMatch(/- \/object: must be equal to one of the allowed values/);
    });
  });

  // OpenAI marks these fields required; a gateway can easily forget them.
  describe('spec strictness a gateway must honour', () => {
    it('chat message must carry refusal (null is fine) and choice must carry logprobs', () => {
      const noRefusal = chatCompletion();
      choicesOf(noRefusal)[0]!.message = { role: 'assistant', content: 'hi' };
      expect(validateOpenAI('CreateChatCompletionResponse', noRefusal).join('\n')).toMatch(
        /\/choices\/0\/message: must have required property 'refusal'/,
      );
      const noLogprobs = chatCompletion();
      delete choicesOf(noLogprobs)[0]!.logprobs;
      expect(validateOpenAI('CreateChatCompletionResponse', noLogprobs).join('\n')).toMatch(
        /\/choices\/0: must have required property 'logprobs'/,
      );
    });

    it('non-streaming finish_reason may not be null; streaming finish_reason must be present', () => {
      const body = chatCompletion();
      choicesOf(body)[0]!.finish_reason = null;
      expect(validateOpenAI('CreateChatCompletionResponse', body).join('\n')).toMatch(/finish_reason/);
      expect(
        validateOpenAI('CreateChatCompletionStreamResponse', chunk([{ index: 0, delta: { content: 'x' } }])).join('\n'),
      ).toMatch(/required property 'finish_reason'/);
    });

    it('error objects must carry param and code (null is fine)', () => {
      const errors = validateOpenAI('ErrorResponse', { error: { message: 'boom', type: 'server_error' } });
      expect(errors.join('\n')).toMatch(/required property 'param'/);
      expect(errors.join('\n')).toMatch(/required property 'code'/);
    });
  });
});
