/**
 * A fake OpenAI-compatible upstream for images, speech and transcription on 127.0.0.1.
 * Behaviour is picked by `model`: `fake-media` answers, `fake-media-500` fails with 500,
 * `fake-media-429` rate-limits. Transcription requests are multipart, parsed by the
 * platform's own Request.formData(); every request is recorded with its fields.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MediaRecord {
  path: string;
  headers: IncomingHttpHeaders;
  /** JSON bodies as parsed; multipart forms as their text fields plus `file` = { name, type, size }. */
  body: Record<string, unknown>;
}

export interface FakeMediaUpstream {
  url: string;
  requests: MediaRecord[];
  /** Speech for `fake-media-held` sends its first chunk, then waits for this. */
  releaseHeld(): void;
  close(): Promise<void>;
}

/** A 1×1 transparent PNG, the fake's every image. */
export const fakePngBase64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
/** The fake's speech, sent in three writes: not a real MP3, only bytes to pass through. */
export const fakeAudioChunks = ['ID3-fake-', 'audio-', 'bytes'].map((text) => Buffer.from(text));
export const fakeTranscript = 'The quick brown fox.';
/** What the fake reports as the audio's length (verbose_json `duration`; json `usage.seconds` is its ceiling). */
export const fakeDurationSeconds = 7.2;

const contentTypes: Record<string, string> = { mp3: 'audio/mpeg', wav: 'audio/wav', opus: 'audio/ogg', aac: 'audio/aac', flac: 'audio/flac', pcm: 'audio/pcm' };

export async function startFakeMediaUpstream(): Promise<FakeMediaUpstream> {
  const requests: MediaRecord[] = [];
  let releaseHeld = () => {};
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const path = (req.url ?? '').replace(/^\/v1/, '');
    let body: Record<string, unknown>;
    if (String(req.headers['content-type']).startsWith('multipart/form-data')) {
      const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: raw }).formData();
      body = {};
      for (const [name, value] of form) {
        body[name] = typeof value === 'string' ? value : { name: value.name, type: value.type, size: value.size };
      }
    } else {
      body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
    }
    requests.push({ path, headers: req.headers, body });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    if (body.model === 'fake-media-500') return json(500, { error: { message: 'fake media failure', type: 'server_error' } });
    if (body.model === 'fake-media-429') return json(429, { error: { message: 'Slow down', type: 'rate_limit_error' } }, { 'retry-after': '3' });
    if (req.method === 'POST' && path === '/images/generations') {
      const n = typeof body.n === 'number' ? body.n : 1;
      const item = body.response_format === 'url' ? { url: 'https://images.example/fake.png' } : { b64_json: fakePngBase64, revised_prompt: `fake: ${String(body.prompt)}` };
      return json(200, { created: 1_700_000_000, data: Array.from({ length: n }, () => item) });
    }
    if (req.method === 'POST' && path === '/audio/speech') {
      res.writeHead(200, { 'content-type': contentTypes[String(body.response_format ?? 'mp3')] ?? 'application/octet-stream' });
      for (const [index, chunk] of fakeAudioChunks.entries()) {
        res.write(chunk);
        if (index === 0 && body.model === 'fake-media-held') await new Promise<void>((resolve) => (releaseHeld = resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
      return res.end();
    }
    if (req.method === 'POST' && path === '/audio/transcriptions') {
      const format = String(body.response_format ?? 'json');
      if (format === 'text') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`${fakeTranscript}\n`);
      }
      if (format === 'verbose_json') {
        return json(200, {
          task: 'transcribe', language: 'english', duration: fakeDurationSeconds, text: fakeTranscript,
          segments: [{ id: 0, seek: 0, start: 0, end: fakeDurationSeconds, text: fakeTranscript, tokens: [1, 2], temperature: 0, avg_logprob: -0.2, compression_ratio: 1.1, no_speech_prob: 0.01 }],
        });
      }
      return json(200, { text: fakeTranscript, usage: { type: 'duration', seconds: Math.ceil(fakeDurationSeconds) } });
    }
    return json(404, { error: { message: `no route ${path}`, type: 'invalid_request_error' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    releaseHeld: () => releaseHeld(),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
