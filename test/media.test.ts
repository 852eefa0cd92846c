/**
 * Images, speech and transcription through the official `openai` SDK: on the sim engine
 * (real PNG and WAV bytes, no weights) and through a fake OpenAI-compatible upstream.
 * Every answer is checked against OpenAI's spec, every usage row and charge by hand.
 */
import { inflateSync } from 'node:zlib';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wavDurationMs, wavFile } from '../src/core/wav.js';
import type { Engine } from '../src/engines/engine.js';
import { ModelCatalog, type ModelEntry } from '../src/gateway/model-catalog.js';
import { fakeAudioChunks, fakeDurationSeconds, fakePngBase64, fakeTranscript, startFakeMediaUpstream, type FakeMediaUpstream } from './support/fake-media-upstream.js';
import { expectOpenAI } from './support/openapi-schemas.js';
import { startTestPlatform, testAdminKey, type TestPlatform } from './support/platform.js';
import { tenantWithKey } from './support/tenants.js';

let upstream: FakeMediaUpstream;
let sky: TestPlatform;
let paying: OpenAI;
let payingTenant: string;

const media = ['images', 'speech', 'transcription'];
// Hand-set prices (CNY): 0.14 per image unit, 105 per 1M speech characters, 0.042 per audio minute.
const imageUnitMicros = 140_000;
const speechPerMCharsMicros = 105_000_000;
const audioMinuteMicros = 42_000;

/** 2.5 s of 16 kHz 16-bit mono silence: billed as 3 seconds. */
const wav = wavFile(new Uint8Array(2.5 * 16_000 * 2), { sampleRate: 16_000, channels: 1, bitsPerSample: 16 });

beforeAll(async () => {
  upstream = await startFakeMediaUpstream();
  sky = await startTestPlatform({
    engines: {
      sim: { kind: 'sim', slots: 2, timeScale: 0.01 },
      remote: { kind: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream-media' },
      narrow: { kind: 'openai-compatible', baseUrl: upstream.url, maxConnections: 1 },
    },
    models: [
      { id: 'sim-media', engine: 'sim', capabilities: media },
      { id: 'sim-chat', engine: 'sim', capabilities: ['chat'] },
      { id: 'remote-media', engine: 'remote', upstreamModel: 'fake-media', capabilities: media },
      { id: 'remote-broken', engine: 'remote', upstreamModel: 'fake-media-500', capabilities: media },
      { id: 'remote-busy', engine: 'remote', upstreamModel: 'fake-media-429', capabilities: media },
      { id: 'narrow-held', engine: 'narrow', upstreamModel: 'fake-media-held', capabilities: media },
      { id: 'narrow-media', engine: 'narrow', upstreamModel: 'fake-media', capabilities: media },
    ],
  });
  for (const model of ['sim-media', 'remote-media', 'remote-broken']) {
    const set = await sky.request('/admin/prices', {
      method: 'POST',
      body: JSON.stringify({ model, input: '0', output: '0', image: '0.14', speech_chars: '105', audio_minute: '0.042' }),
    });
    expect(set.status).toBe(201);
    expect(await set.json()).toMatchObject({ image_micros: 140_000, speech_chars_micros: 105_000_000, audio_minute_micros: 42_000, image: '0.140000' });
  }
  const { tenant, key } = await tenantWithKey(sky.platform.store.db);
  payingTenant = tenant.id;
  const topUp = await sky.request(`/admin/tenants/${tenant.id}/topups`, { method: 'POST', body: JSON.stringify({ amount: '10' }) });
  expect(topUp.status).toBe(201);
  paying = new OpenAI({ baseURL: sky.baseURL, apiKey: key, maxRetries: 0 });
});

afterAll(async () => {
  await sky?.close();
  await upstream?.close();
});

const usageRow = (requestId: string) =>
  sky.platform.store.db.selectFrom('usage_records').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();

const balanceOf = async (tenantId: string) =>
  Number((await sky.platform.store.db.selectFrom('tenant_balances').select('balance_micros').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).balance_micros);

/** The PNG's width and height from IHDR, after checking its signature and inflating its pixels. */
function readPng(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(bytes.toString('ascii', 12, 16)).toBe('IHDR');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const idatLength = bytes.readUInt32BE(33);
  expect(bytes.toString('ascii', 37, 41)).toBe('IDAT');
  const pixels = inflateSync(bytes.subarray(41, 41 + idatLength));
  expect(pixels.length).toBe(height * (1 + width * 3));
  expect(bytes.subarray(-8, -4).toString('ascii')).toBe('IEND');
  return { width, height };
}

describe('media on the sim engine', () => {
  it('generates real, deterministic PNGs of the asked size, billed per image unit', async () => {
    const before = await balanceOf(payingTenant);
    const ask = { model: 'sim-media', prompt: 'a red fox', n: 2, size: '256x128', response_format: 'b64_json' } as const;
    const { data: answer, response } = await paying.images.generate(ask as never).withResponse();
    expectOpenAI('ImagesResponse', answer);
    expect(answer.data).toHaveLength(2);
    const [first, second] = answer.data!.map((image) => Buffer.from(image.b64_json!, 'base64'));
    expect(readPng(first!)).toEqual({ width: 256, height: 128 });
    expect(first!.equals(second!)).toBe(false); // each image of a request differs
    const again = await paying.images.generate(ask as never);
    expect(again.data![0]!.b64_json).toBe(answer.data![0]!.b64_json); // same prompt, same bytes
    const other = await paying.images.generate({ ...ask, prompt: 'a blue whale' } as never);
    expect(other.data![0]!.b64_json).not.toBe(answer.data![0]!.b64_json);

    const row = await usageRow(response.headers.get('x-request-id')!);
    // 2 images of ≤1024² at standard quality: 2 units × 0.14.
    expect(row).toMatchObject({ model_id: 'sim-media', unit_kind: 'image', units: 2, cost_micros: 2 * imageUnitMicros, status: 'ok', prompt_tokens: 0, replica_id: 'sim' });
    expect(await balanceOf(payingTenant)).toBe(before - 3 * 2 * imageUnitMicros);
  });

  it('counts larger and hd images as more units', async () => {
    const { response } = await sky.client.images.generate({ model: 'sim-media', prompt: 'wide', size: '1792x1024', quality: 'hd' } as never).withResponse();
    // ceil(1792·1024 / 1024²) = 2 units, doubled for hd: 4 × 0.14.
    expect(await usageRow(response.headers.get('x-request-id')!)).toMatchObject({ unit_kind: 'image', units: 4, cost_micros: 4 * imageUnitMicros });
  });

  it('speaks a WAV tone as long as the text, billed per character', async () => {
    const input = 'Hello, Skylark!';
    const response = await paying.audio.speech.create({ model: 'sim-media', voice: 'alloy', input, response_format: 'wav' });
    expect(response.headers.get('content-type')).toBe('audio/wav');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
    expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
    expect(wavDurationMs(bytes)).toBe(input.length * 50); // 50 ms a character
    expect(bytes.length).toBe(44 + input.length * 50 * 24 * 2); // 24 kHz, 16-bit mono
    const row = await usageRow(response.headers.get('x-request-id')!);
    // 15 characters × 105 per 1M = 0.001575.
    expect(row).toMatchObject({ unit_kind: 'speech_char', units: 15, cost_micros: 1575, status: 'ok' });
  });

  it('refuses formats the simulator cannot make, naming the parameter', async () => {
    const error = await sky.client.audio.speech.create({ model: 'sim-media', voice: 'alloy', input: 'hi', response_format: 'mp3' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'response_format' });
  });

  it('transcribes a WAV file to a fixed sentence, billed by the second', async () => {
    const { data: json, response } = await paying.audio.transcriptions
      .create({ model: 'sim-media', file: await toFile(wav, 'hello.wav', { type: 'audio/wav' }) })
      .withResponse();
    expectOpenAI('CreateTranscriptionResponseJson', json);
    expect(json.text).toBe('Simulated transcript of 2.50 seconds of audio.');
    // 2.5 s is billed as 3 s: 3 × 0.042 / 60.
    expect(await usageRow(response.headers.get('x-request-id')!)).toMatchObject({ unit_kind: 'audio_second', units: 3, cost_micros: 2100 });

    const verbose = await sky.client.audio.transcriptions.create({
      model: 'sim-media', file: await toFile(wav, 'hello.wav'), response_format: 'verbose_json', language: 'en',
    });
    expectOpenAI('CreateTranscriptionResponseVerboseJson', verbose);
    expect(verbose).toMatchObject({ language: 'en', duration: 2.5, text: json.text });

    const text = await sky.client.audio.transcriptions.create({ model: 'sim-media', file: await toFile(wav, 'hello.wav'), response_format: 'text' });
    expect(text).toBe(`${json.text}\n`);
  });

  it('refuses a file the simulator cannot read, and a request without a file', async () => {
    const notWav = await sky.client.audio.transcriptions
      .create({ model: 'sim-media', file: await toFile(Buffer.from('not audio'), 'x.mp3') })
      .catch((e: unknown) => e);
    expect(notWav).toMatchObject({ status: 400, param: 'file' });
    const form = new FormData();
    form.append('model', 'sim-media');
    const noFile = await fetch(`${sky.baseURL}/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${testAdminKey}` }, body: form });
    expect(noFile.status).toBe(400);
    expect((await noFile.json()).error).toMatchObject({ param: 'file', type: 'invalid_request_error' });
  });

  it('never routes media to a model without the capability', async () => {
    const images = await sky.client.images.generate({ model: 'sim-chat', prompt: 'x' }).catch((e: unknown) => e);
    expect(images).toMatchObject({ status: 400, param: 'model' });
    expect((images as Error).message).toMatch(/does not support images/);
    const speech = await sky.client.audio.speech.create({ model: 'sim-chat', voice: 'alloy', input: 'x', response_format: 'wav' }).catch((e: unknown) => e);
    expect(speech).toMatchObject({ status: 400, param: 'model' });
    const missing = await sky.client.images.generate({ model: 'no-such-model', prompt: 'x' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('refuses a tenant without balance before running anything', async () => {
    const { key } = await tenantWithKey(sky.platform.store.db);
    const broke = new OpenAI({ baseURL: sky.baseURL, apiKey: key, maxRetries: 0 });
    const refused = await broke.images.generate({ model: 'sim-media', prompt: 'x', size: '64x64' } as never).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 402, code: 'insufficient_quota' });
  });
});

describe('media through an OpenAI-compatible upstream', () => {
  it('forwards image generation and bills what came back', async () => {
    const { data: answer, response } = await paying.images
      .generate({ model: 'remote-media', prompt: 'a lighthouse', n: 3, size: '1024x1024', response_format: 'b64_json' })
      .withResponse();
    expectOpenAI('ImagesResponse', answer);
    expect(answer.data).toEqual(Array.from({ length: 3 }, () => ({ b64_json: fakePngBase64, revised_prompt: 'fake: a lighthouse' })));
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/images/generations');
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-media');
    expect(sent.body).toEqual({ model: 'fake-media', prompt: 'a lighthouse', n: 3, size: '1024x1024', response_format: 'b64_json' });
    expect(await usageRow(response.headers.get('x-request-id')!)).toMatchObject({ model_id: 'remote-media', unit_kind: 'image', units: 3, cost_micros: 3 * imageUnitMicros, replica_id: 'remote' });
  });

  it('streams the upstream audio through with its content type', async () => {
    const response = await paying.audio.speech.create({ model: 'remote-media', voice: 'nova', input: 'Guten Tag', speed: 1.25 });
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.concat(fakeAudioChunks));
    expect(upstream.requests.at(-1)!.body).toEqual({ model: 'fake-media', input: 'Guten Tag', voice: 'nova', response_format: 'mp3', speed: 1.25 });
    // 9 characters × 105 per 1M = 0.000945.
    expect(await usageRow(response.headers.get('x-request-id')!)).toMatchObject({ unit_kind: 'speech_char', units: 9, cost_micros: 945 });
  });

  it('forwards transcriptions as multipart and bills the duration the upstream reports', async () => {
    const { data: verbose, response } = await paying.audio.transcriptions
      .create({ model: 'remote-media', file: await toFile(wav, 'hello.wav', { type: 'audio/wav' }), response_format: 'verbose_json', language: 'en', prompt: 'foxes', temperature: 0.2 })
      .withResponse();
    expectOpenAI('CreateTranscriptionResponseVerboseJson', verbose);
    expect(verbose).toMatchObject({ text: fakeTranscript, duration: fakeDurationSeconds, language: 'english' });
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/audio/transcriptions');
    expect(sent.body).toEqual({
      file: { name: 'hello.wav', type: 'audio/wav', size: wav.length },
      model: 'fake-media', response_format: 'verbose_json', language: 'en', prompt: 'foxes', temperature: '0.2',
    });
    // 7.2 s reported → 8 s billed: 8 × 0.042 / 60 = 0.0056.
    expect(await usageRow(response.headers.get('x-request-id')!)).toMatchObject({ unit_kind: 'audio_second', units: 8, cost_micros: 5600 });

    const { data: json, response: jsonResponse } = await paying.audio.transcriptions
      .create({ model: 'remote-media', file: await toFile(wav, 'hello.wav') })
      .withResponse();
    expectOpenAI('CreateTranscriptionResponseJson', json);
    expect(json).toEqual({ text: fakeTranscript, usage: { type: 'duration', seconds: 8 } });
    expect(await usageRow(jsonResponse.headers.get('x-request-id')!)).toMatchObject({ units: 8, cost_micros: 5600 });

    // Plain text carries no duration: the WAV header's 2.5 s is billed as 3 s.
    const { data: text, response: textResponse } = await paying.audio.transcriptions
      .create({ model: 'remote-media', file: await toFile(wav, 'hello.wav'), response_format: 'text' })
      .withResponse();
    expect(text).toBe(`${fakeTranscript}\n`);
    expect(await usageRow(textResponse.headers.get('x-request-id')!)).toMatchObject({ units: 3, cost_micros: 2100 });
  });

  it('maps upstream failures to OpenAI errors and charges nothing for them', async () => {
    const before = await balanceOf(payingTenant);
    const { response, error } = await paying.images
      .generate({ model: 'remote-broken', prompt: 'x' })
      .withResponse()
      .then(() => ({ response: undefined, error: undefined }), (e: InstanceType<typeof OpenAI.APIError>) => ({ response: e.headers, error: e }));
    expect(error).toMatchObject({ status: 502, type: 'server_error' });
    expect(error!.message).toMatch(/fake media failure/);
    expect(await usageRow(response!.get('x-request-id')!)).toMatchObject({ status: 'error', cost_micros: 0, units: 0 });
    const busy = await paying.audio.speech.create({ model: 'remote-busy', voice: 'alloy', input: 'x' }).catch((e: unknown) => e);
    expect(busy).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(await balanceOf(payingTenant)).toBe(before);
  });

  it('is scheduled like other work: waits for a free slot, its place visible, then runs', async () => {
    // The held speech takes the engine's one connection until the fake lets it finish.
    const held = await fetch(`${sky.baseURL}/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'narrow-held', voice: 'alloy', input: 'hold on' }),
    });
    expect(held.status).toBe(200);
    const reader = held.body!.getReader();
    expect(Buffer.from((await reader.read()).value!)).toEqual(fakeAudioChunks[0]);
    const waiting = sky.client.images.generate({ model: 'narrow-media', prompt: 'next' }, { headers: { 'X-Client-Request-Id': 'media-waits' } }).withResponse();
    await expect
      .poll(async () => (await sky.request('/v1/queue/media-waits')).status, { timeout: 10_000 })
      .toBe(200);
    expect(await (await sky.request('/v1/queue/media-waits')).json()).toMatchObject({ status: 'waiting', position: 1 });
    upstream.releaseHeld();
    let rest = Buffer.alloc(0);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest = Buffer.concat([rest, chunk.value]);
    expect(rest).toEqual(Buffer.concat(fakeAudioChunks.slice(1)));
    const { data, response } = await waiting;
    expect(data.data).toHaveLength(1);
    expect(Number(response.headers.get('x-skylark-queue-ms'))).toBeGreaterThan(0);
  });

  it('bills speech the client leaves midway as aborted, for its whole input (the upstream has made it)', async () => {
    const controller = new AbortController();
    const held = await fetch(`${sky.baseURL}/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'narrow-held', voice: 'alloy', input: 'goodbye' }),
      signal: controller.signal,
    });
    const requestId = held.headers.get('x-request-id')!;
    await held.body!.getReader().read();
    controller.abort();
    const row = () => sky.platform.store.db.selectFrom('usage_records').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    await expect.poll(row, { timeout: 10_000 }).toBeDefined();
    expect(await row()).toMatchObject({ status: 'aborted', unit_kind: 'speech_char', units: 7 });
    upstream.releaseHeld();
  });

  it('keeps the ledger consistent', async () => {
    const verify = await sky.request('/admin/ledger/verify');
    expect(await verify.json()).toMatchObject({ ok: true, problems: [] });
  });
});

describe('the catalog', () => {
  it('refuses at start a model declaring a media capability its engine cannot serve', () => {
    const textOnly = { id: 'local', kind: 'llama-cpp' } as Engine;
    const entry = (capabilities: ModelEntry['capabilities']): ModelEntry => ({
      id: 'm', family: 'f', tier: 't', capabilities, contextWindow: null, engine: textOnly, replicas: [textOnly],
      fallbacks: [], engineModel: 'm', ownedBy: 'o', created: 0,
    });
    expect(() => new ModelCatalog([entry(['chat', 'speech'])])).toThrow("models: 'm' declares speech, but its engine 'local' (llama-cpp) cannot serve speech.");
    expect(() => new ModelCatalog([entry(['chat'])])).not.toThrow();
  });
});
