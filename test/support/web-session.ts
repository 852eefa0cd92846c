/**
 * A browser-like client for the web app's /api: a cookie jar, and the CSRF header copied
 * from the `sky_csrf` cookie on every state-changing request (as the web app does).
 */
import type { ReplyEvent } from '../../src/contracts/apps-api.js';

export interface StreamRead {
  events: ReplyEvent[];
  comments: string[];
}

export class WebSession {
  readonly cookies = new Map<string, string>();
  lastSetCookies: string[] = [];

  constructor(readonly baseUrl: string) {}

  static async open(baseUrl: string): Promise<WebSession> {
    const session = new WebSession(baseUrl);
    await session.request('GET', '/api/session');
    return session;
  }

  async request(method: string, path: string, body?: unknown, options: { csrf?: boolean; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (options.csrf !== false && method !== 'GET' && this.cookies.has('sky_csrf')) headers['x-skylark-csrf'] = this.cookies.get('sky_csrf')!;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    this.lastSetCookies = response.headers.getSetCookie();
    for (const line of this.lastSetCookies) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; response: Response }> {
    const response = await this.request(method, path, body);
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T, response };
  }

  async signUp(username: string, password = 'correct horse battery'): Promise<void> {
    const { status, body } = await this.json('POST', '/api/auth/signup', { username, password });
    if (status !== 201) throw new Error(`sign up failed: ${status} ${JSON.stringify(body)}`);
  }

  /** Reads a reply stream to its end (or until `until` says stop, then disconnects). */
  async readStream(conversationId: string, until?: (read: StreamRead) => boolean): Promise<StreamRead> {
    const controller = new AbortController();
    const response = await this.request('GET', `/api/conversations/${conversationId}/stream`, undefined, { signal: controller.signal });
    if (response.status !== 200) throw new Error(`stream: ${response.status} ${await response.text()}`);
    const read: StreamRead = { events: [], comments: [] };
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return read;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) read.comments.push(line.slice(1).trim());
          else if (line === 'data: [DONE]') return read;
          else if (line.startsWith('data: ')) read.events.push(JSON.parse(line.slice(6)) as ReplyEvent);
        }
        if (until?.(read)) {
          controller.abort();
          return read;
        }
      }
    }
  }
}

/** The text a stream read shows: its start snapshot plus every delta after it. */
export function streamedText(read: StreamRead): string {
  let text = '';
  for (const event of read.events) {
    if (event.type === 'start') text = event.text;
    else if (event.type === 'delta') text += event.text;
  }
  return text;
}
