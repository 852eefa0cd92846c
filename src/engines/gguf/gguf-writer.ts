/**
 * A small, dependency-free GGUF v3 writer (little-endian).
 *
 * Layout written (see ggml/docs/gguf.md):
 *   magic "GGUF" | version u32 = 3 | tensor_count u64 | kv_count u64
 *   kv_count × { key: string, value_type: u32, value }
 *   tensor_count × { name: string, n_dims: u32, dims: u64[n_dims], ggml_type: u32, offset: u64 }
 *   zero padding to `general.alignment` (default 32)
 *   tensor data: each tensor starts at an aligned offset relative to the data section, in list order
 * Strings are u64 byte length + UTF-8 bytes (no terminator). Arrays are item_type u32 + u64 count + items.
 *
 * Dimension order is ggml's: dims[0] is the row length (the fastest-varying index). A PyTorch
 * weight of shape [out, in] is therefore written with dims [in, out] and the same row-major data.
 */
import { writeFile } from 'node:fs/promises';

/** GGUF metadata value type ids, as stored in the file. */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufNumberTypeName = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type GgufBigTypeName = 'uint64' | 'int64';
export type GgufScalarTypeName = GgufNumberTypeName | GgufBigTypeName | 'bool' | 'string';
export type GgufScalarValue = number | bigint | boolean | string;

export type GgufMetadataEntry =
  | { key: string; type: GgufNumberTypeName; value: number }
  | { key: string; type: GgufBigTypeName; value: bigint | number }
  | { key: string; type: 'bool'; value: boolean }
  | { key: string; type: 'string'; value: string }
  | { key: string; type: 'array'; itemType: GgufScalarTypeName; value: readonly GgufScalarValue[] };

/** Terse constructors for metadata entries: `md.uint32('llama.block_count', 4)`. */
export const md = {
  uint8: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'uint8', value }),
  int8: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'int8', value }),
  uint16: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'uint16', value }),
  int16: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'int16', value }),
  uint32: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'uint32', value }),
  int32: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'int32', value }),
  uint64: (key: string, value: bigint | number): GgufMetadataEntry => ({ key, type: 'uint64', value }),
  int64: (key: string, value: bigint | number): GgufMetadataEntry => ({ key, type: 'int64', value }),
  float32: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'float32', value }),
  float64: (key: string, value: number): GgufMetadataEntry => ({ key, type: 'float64', value }),
  bool: (key: string, value: boolean): GgufMetadataEntry => ({ key, type: 'bool', value }),
  string: (key: string, value: string): GgufMetadataEntry => ({ key, type: 'string', value }),
  array: (key: string, itemType: GgufScalarTypeName, value: readonly GgufScalarValue[]): GgufMetadataEntry => ({
    key,
    type: 'array',
    itemType,
    value,
  }),
};

/** ggml tensor types this writer can encode from Float32Array data. */
export type GgufTensorType = 'F32' | 'F16';
const GGML_TYPE_ID: Record<GgufTensorType, number> = { F32: 0, F16: 1 };
const GGML_TYPE_BYTES: Record<GgufTensorType, number> = { F32: 4, F16: 2 };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the row length. */
  dims: readonly number[];
  type: GgufTensorType;
  /** Row-major values; length must equal the product of dims. F16 tensors are rounded on write. */
  data: Float32Array;
}

export interface GgufModel {
  metadata: readonly GgufMetadataEntry[];
  tensors: readonly GgufTensor[];
}

export const GGUF_DEFAULT_ALIGNMENT = 32;
const textEncoder = new TextEncoder();

const align = (n: number, alignment: number): number => Math.ceil(n / alignment) * alignment;

/** Size of a scalar value in bytes (strings: length prefix + UTF-8 bytes). */
function scalarSize(type: GgufScalarTypeName, value: GgufScalarValue): number {
  switch (type) {
    case 'uint8':
    case 'int8':
    case 'bool':
      return 1;
    case 'uint16':
    case 'int16':
      return 2;
    case 'uint32':
    case 'int32':
    case 'float32':
      return 4;
    case 'uint64':
    case 'int64':
    case 'float64':
      return 8;
    case 'string':
      return 8 + textEncoder.encode(String(value)).length;
  }
}

/** Bounds-checked little-endian cursor over a pre-sized buffer. */
class Cursor {
  readonly view: DataView;
  pos = 0;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: bigint | number): void {
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
  }
  string(s: string): void {
    const b = textEncoder.encode(s);
    this.u64(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }
  scalar(type: GgufScalarTypeName, value: GgufScalarValue, key: string): void {
    const v = this.view;
    const p = this.pos;
    const num = (): number => {
      if (typeof value !== 'number') throw new TypeError(`GGUF key "${key}": expected a number for ${type}`);
      return value;
    };
    const int = (min: number, max: number): number => {
      const n = num();
      if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`GGUF key "${key}": ${n} is not a valid ${type}`);
      return n;
    };
    switch (type) {
      case 'uint8': v.setUint8(p, int(0, 0xff)); break;
      case 'int8': v.setInt8(p, int(-0x80, 0x7f)); break;
      case 'uint16': v.setUint16(p, int(0, 0xffff), true); break;
      case 'int16': v.setInt16(p, int(-0x8000, 0x7fff), true); break;
      case 'uint32': v.setUint32(p, int(0, 0xffffffff), true); break;
      case 'int32': v.setInt32(p, int(-0x80000000, 0x7fffffff), true); break;
      case 'float32': v.setFloat32(p, num(), true); break;
      case 'float64': v.setFloat64(p, num(), true); break;
      case 'uint64':
      case 'int64': {
        if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) {
          throw new TypeError(`GGUF key "${key}": expected an integer for ${type}`);
        }
        const big = BigInt(value);
        if (type === 'uint64') v.setBigUint64(p, BigInt.asUintN(64, big), true);
        else v.setBigInt64(p, BigInt.asIntN(64, big), true);
        break;
      }
      case 'bool':
        if (typeof value !== 'boolean') throw new TypeError(`GGUF key "${key}": expected a boolean`);
        v.setUint8(p, value ? 1 : 0);
        break;
      case 'string':
        if (typeof value !== 'string') throw new TypeError(`GGUF key "${key}": expected a string`);
        this.string(value);
        return; // string() advanced pos itself
    }
    this.pos += scalarSize(type, value);
  }
}

/** IEEE 754 binary16 bits of a float32 value, round-to-nearest-even (Node 20 lacks Math.f16round). */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // subnormal: shift in the implicit bit
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // may carry into the exponent: still correct
  return sign | half;
}

function validateTensor(t: GgufTensor): number {
  if (!t.name || textEncoder.encode(t.name).length > 63) throw new Error(`GGUF tensor name "${t.name}" must be 1..63 bytes`);
  if (t.dims.length < 1 || t.dims.length > 4) throw new Error(`GGUF tensor "${t.name}": 1..4 dimensions expected`);
  let n = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 1) throw new Error(`GGUF tensor "${t.name}": bad dimension ${d}`);
    n *= d;
  }
  if (n !== t.data.length) throw new Error(`GGUF tensor "${t.name}": dims hold ${n} values but data has ${t.data.length}`);
  return n * GGML_TYPE_BYTES[t.type];
}

/** Serialises a complete GGUF v3 file into memory. */
export function writeGguf(model: GgufModel): Uint8Array {
  const alignEntry = model.metadata.find((e) => e.key === 'general.alignment');
  const alignment = alignEntry ? Number(alignEntry.value) : GGUF_DEFAULT_ALIGNMENT;
  if (alignEntry && alignEntry.type !== 'uint32') throw new Error('general.alignment must be a uint32');
  if (!Number.isInteger(alignment) || alignment < 8 || alignment % 8 !== 0) {
    throw new Error(`general.alignment must be a positive multiple of 8, got ${alignment}`);
  }
  const keys = new Set<string>();
  for (const e of model.metadata) {
    if (keys.has(e.key)) throw new Error(`duplicate GGUF metadata key "${e.key}"`);
    keys.add(e.key);
  }
  const names = new Set<string>();
  for (const t of model.tensors) {
    if (names.has(t.name)) throw new Error(`duplicate GGUF tensor "${t.name}"`);
    names.add(t.name);
  }

  // Pass 1: sizes, so the whole file is one allocation.
  let headerSize = 4 + 4 + 8 + 8;
  for (const e of model.metadata) {
    headerSize += 8 + textEncoder.encode(e.key).length + 4;
    if (e.type === 'array') {
      headerSize += 4 + 8;
      for (const item of e.value) headerSize += scalarSize(e.itemType, item);
    } else {
      headerSize += scalarSize(e.type, e.value);
    }
  }
  const offsets: number[] = [];
  let dataSize = 0;
  for (const t of model.tensors) {
    const bytes = validateTensor(t);
    headerSize += 8 + textEncoder.encode(t.name).length + 4 + 8 * t.dims.length + 4 + 8;
    dataSize = align(dataSize, alignment);
    offsets.push(dataSize);
    dataSize += bytes;
  }
  const dataStart = align(headerSize, alignment);
  // The file ends padded too, so that concatenated/split readers never see a short last tensor.
  const out = new Uint8Array(dataStart + align(dataSize, alignment));
  const c = new Cursor(out);

  // Pass 2: write.
  out.set([0x47, 0x47, 0x55, 0x46], 0); // "GGUF"
  c.pos = 4;
  c.u32(3);
  c.u64(model.tensors.length);
  c.u64(model.metadata.length);
  for (const e of model.metadata) {
    c.string(e.key);
    c.u32(GgufValueType[e.type]);
    if (e.type === 'array') {
      c.u32(GgufValueType[e.itemType]);
      c.u64(e.value.length);
      for (const item of e.value) c.scalar(e.itemType, item, e.key);
    } else {
      c.scalar(e.type, e.value, e.key);
    }
  }
  model.tensors.forEach((t, i) => {
    c.string(t.name);
    c.u32(t.dims.length);
    for (const d of t.dims) c.u64(d);
    c.u32(GGML_TYPE_ID[t.type]);
    c.u64(offsets[i]!);
  });
  if (c.pos !== headerSize) throw new Error(`internal GGUF size mismatch: ${c.pos} != ${headerSize}`);

  model.tensors.forEach((t, i) => {
    const at = dataStart + offsets[i]!;
    if (t.type === 'F32') {
      for (let j = 0; j < t.data.length; j++) c.view.setFloat32(at + 4 * j, t.data[j]!, true);
    } else {
      for (let j = 0; j < t.data.length; j++) c.view.setUint16(at + 2 * j, float32ToFloat16Bits(t.data[j]!), true);
    }
  });
  return out;
}

/** Writes a GGUF file to disk (the tiny models here are a few MB, so building in memory is fine). */
export async function writeGgufFile(path: string, model: GgufModel): Promise<void> {
  await writeFile(path, writeGguf(model));
}
