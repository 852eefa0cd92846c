import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf, GGUFValueType } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32ToFloat16Bits, md, writeGguf, writeGgufFile, type GgufModel } from './gguf-writer.js';

// @huggingface/gguf is an independent parser: if it reads our bytes back, the layout is right.
const sample: GgufModel = {
  metadata: [
    md.string('general.architecture', 'llama'),
    md.uint32('general.alignment', 32),
    md.uint8('test.u8', 250),
    md.int8('test.i8', -100),
    md.uint16('test.u16', 65000),
    md.int16('test.i16', -32000),
    md.uint32('test.u32', 4_000_000_000),
    md.int32('test.i32', -2_000_000_000),
    md.uint64('test.u64', 2n ** 63n + 5n),
    md.int64('test.i64', -(2n ** 62n)),
    md.float32('test.f32', 0.5),
    md.float64('test.f64', Math.PI),
    md.bool('test.bool', true),
    md.string('test.string', 'héllo ✓'),
    md.array('test.arr_i32', 'int32', [1, -2, 3]),
    md.array('test.arr_f32', 'float32', [0.25, -1.5]),
    md.array('test.arr_bool', 'bool', [true, false]),
    md.array('test.arr_str', 'string', ['a', 'Ġb', '']),
    md.array('test.arr_u64', 'uint64', [1n, 2n]),
  ],
  tensors: [
    { name: 'a.weight', dims: [3, 2], type: 'F32', data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'b.weight', dims: [5], type: 'F16', data: Float32Array.from([0, 1, -2, 0.5, 65504]) },
    { name: 'c.weight', dims: [4, 2, 1], type: 'F32', data: new Float32Array(8).fill(7) },
  ],
};

describe('writeGguf', () => {
  let dir: string;
  let file: string;
  let bytes: Uint8Array;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skylark-gguf-'));
    file = join(dir, 'sample.gguf');
    bytes = writeGguf(sample);
    await writeGgufFile(file, sample);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a GGUF v3 header', () => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('GGUF');
    expect(view.getUint32(4, true)).toBe(3);
    expect(view.getBigUint64(8, true)).toBe(3n);
    expect(view.getBigUint64(16, true)).toBe(BigInt(sample.metadata.length));
  });

  it('round-trips every metadata type through @huggingface/gguf', async () => {
    const parsed = await gguf(file, { allowLocalFile: true, typedMetadata: true });
    const m = parsed.typedMetadata;
    expect(m.version.value).toBe(3);
    expect(m.tensor_count.value).toBe(3n);
    const expectKv = (key: string, type: GGUFValueType, value: unknown, subType?: GGUFValueType): void => {
      expect(m[key], key).toMatchObject(subType === undefined ? { type, value } : { type, value, subType });
    };
    expectKv('general.architecture', GGUFValueType.STRING, 'llama');
    expectKv('general.alignment', GGUFValueType.UINT32, 32);
    expectKv('test.u8', GGUFValueType.UINT8, 250);
    expectKv('test.i8', GGUFValueType.INT8, -100);
    expectKv('test.u16', GGUFValueType.UINT16, 65000);
    expectKv('test.i16', GGUFValueType.INT16, -32000);
    expectKv('test.u32', GGUFValueType.UINT32, 4_000_000_000);
    expectKv('test.i32', GGUFValueType.INT32, -2_000_000_000);
    expectKv('test.u64', GGUFValueType.UINT64, 2n ** 63n + 5n);
    expectKv('test.i64', GGUFValueType.INT64, -(2n ** 62n));
    expectKv('test.f32', GGUFValueType.FLOAT32, 0.5);
    expectKv('test.f64', GGUFValueType.FLOAT64, Math.PI);
    expectKv('test.bool', GGUFValueType.BOOL, true);
    expectKv('test.string', GGUFValueType.STRING, 'héllo ✓');
    expectKv('test.arr_i32', GGUFValueType.ARRAY, [1, -2, 3], GGUFValueType.INT32);
    expectKv('test.arr_f32', GGUFValueType.ARRAY, [0.25, -1.5], GGUFValueType.FLOAT32);
    expectKv('test.arr_bool', GGUFValueType.ARRAY, [true, false], GGUFValueType.BOOL);
    expectKv('test.arr_str', GGUFValueType.ARRAY, ['a', 'Ġb', ''], GGUFValueType.STRING);
    expectKv('test.arr_u64', GGUFValueType.ARRAY, [1n, 2n], GGUFValueType.UINT64);
  });

  it('writes tensor infos and 32-byte aligned tensor data', async () => {
    const parsed = await gguf(file, { allowLocalFile: true });
    expect(parsed.tensorInfos.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype, offset: t.offset }))).toEqual([
      { name: 'a.weight', shape: [3n, 2n], dtype: 0, offset: 0n },
      { name: 'b.weight', shape: [5n], dtype: 1, offset: 32n }, // 24 bytes of F32, padded to 32
      { name: 'c.weight', shape: [4n, 2n, 1n], dtype: 0, offset: 64n }, // 10 bytes of F16, padded
    ]);
    expect(Number(parsed.tensorDataOffset) % 32).toBe(0);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const base = Number(parsed.tensorDataOffset);
    expect([0, 1, 2, 3, 4, 5].map((i) => view.getFloat32(base + 4 * i, true))).toEqual([1, 2, 3, 4, 5, 6]);
    expect([0, 1, 2, 3, 4].map((i) => view.getUint16(base + 32 + 2 * i, true))).toEqual([0x0000, 0x3c00, 0xc000, 0x3800, 0x7bff]);
    expect(view.getFloat32(base + 64 + 28, true)).toBe(7);
    expect(bytes.length % 32).toBe(0);
  });

  it('honours a larger general.alignment', async () => {
    const model = { ...sample, metadata: sample.metadata.map((e) => (e.key === 'general.alignment' ? md.uint32(e.key, 64) : e)) };
    const out = writeGguf(model);
    const path = join(dir, 'align64.gguf');
    await writeGgufFile(path, model);
    const parsed = await gguf(path, { allowLocalFile: true });
    expect(parsed.tensorInfos.map((t) => t.offset)).toEqual([0n, 64n, 128n]);
    expect(Number(parsed.tensorDataOffset) % 64).toBe(0);
    expect(out.length % 64).toBe(0);
  });

  it('converts float32 to float16 with round-to-nearest-even', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds to infinity
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(float32ToFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });

  it('rejects inconsistent input', () => {
    const t = { name: 'x', dims: [2, 2], type: 'F32' as const, data: new Float32Array(3) };
    expect(() => writeGguf({ metadata: [], tensors: [t] })).toThrow(/dims hold 4 values but data has 3/);
    expect(() => writeGguf({ metadata: [md.uint8('k', 256)], tensors: [] })).toThrow(/not a valid uint8/);
    expect(() => writeGguf({ metadata: [md.bool('k', true), md.bool('k', false)], tensors: [] })).toThrow(/duplicate/);
  });
});
