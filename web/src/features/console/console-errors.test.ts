import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError } from '../../api/client.js';
import { consoleEn, consoleZhCN } from '../../i18n/console-strings.js';
import { addStrings } from '../../i18n/dictionary.js';
import { translate } from '../../i18n/i18n.js';
import { describeError } from './console-errors.js';

addStrings(consoleEn, consoleZhCN);
const say = (error: unknown, lang: 'en' | 'zh-CN' = 'en') => {
  const problem = describeError(error, 0);
  return translate(lang, problem.key, problem.values);
};

describe("the API's errors, as what to do next", () => {
  it('a bad key: paste another', () => {
    const problem = describeError(new ApiError(401, 'invalid_api_key', 'Incorrect API key provided.', null));
    expect(problem.badKey).toBe(true);
    expect(say(new ApiError(401, 'invalid_api_key', 'Incorrect API key provided.', null))).toMatch(/^The server does not accept this key.+Paste a valid key/);
    expect(say(new ApiError(401, 'invalid_api_key', 'x', null), 'zh-CN')).toContain('请粘贴一个有效的密钥');
  });

  it('an admin route with a tenant key: names the admin key', () => {
    expect(say(new ApiError(403, 'permission_denied', 'The admin API needs the operator key.', null))).toBe(
      'This key may not do that: it needs the operator’s admin key. (The admin API needs the operator key.)',
    );
  });

  it('a field at fault: names the field', () => {
    const error = new ApiError(400, 'invalid_request', "Invalid value for 'amount': expected a decimal string", null, 'amount');
    expect(say(error)).toBe("Check “amount”: Invalid value for 'amount': expected a decimal string");
    expect(describeError(error).retryable).toBe(false);
  });

  it('busy: retry after the Retry-After; network and server trouble: retry', () => {
    const busy = describeError(new ApiError(429, 'rate_limit_exceeded', 'Slow down.', 3000), 1_000);
    expect(busy).toMatchObject({ retryable: true, retryAt: 4_000 });
    expect(describeError(new NetworkError(new TypeError('fetch failed')))).toMatchObject({ key: 'console.error.network', retryable: true });
    expect(say(new ApiError(503, 'engine_unavailable', 'No replica.', null))).toBe('The server had a problem (engine_unavailable). Retry in a moment. No replica.');
  });

  it('anything else keeps the code and the message', () => {
    expect(say(new ApiError(409, 'conflict', 'Already there.', null))).toBe('Something went wrong (conflict): Already there.');
  });
});
