/**
 * Where uploaded files' bytes live. A directory under the data dir by default; the
 * interface is what an S3-compatible store would implement (put a stream under a key with
 * a size cap, read it back as a stream, delete it).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkylarkError } from '../core/errors.js';

export interface FileStorage {
  /**
   * Stores `content` under `key` and returns its size. Past `maxBytes` it stores nothing
   * and rejects with SkylarkError('request_too_large').
   */
  put(key: string, content: Readable | AsyncIterable<Uint8Array | string>, maxBytes: number): Promise<number>;
  /** The bytes stored under `key`; rejects with SkylarkError('not_found') when there are none. */
  get(key: string): Promise<Readable>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
}

export class DirectoryFileStorage implements FileStorage {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, content: Readable | AsyncIterable<Uint8Array | string>, maxBytes: number): Promise<number> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // Written beside its final name and renamed once complete: a reader never sees half a file.
    const partial = `${path}.part`;
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer | string, _encoding, done) {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        if (bytes > maxBytes) done(tooLarge(maxBytes));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(content, counter, createWriteStream(partial));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return bytes;
  }

  async get(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    const found = await stat(path).catch(() => undefined);
    if (!found?.isFile()) throw new SkylarkError('not_found', 'The file content is missing from storage.');
    return createReadStream(path);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  /** Keys are ours (tenant and file ids), but a path that leaves the root is refused all the same. */
  private pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new RangeError(`storage key ${key} leaves the storage root`);
    return path;
  }
}

export function tooLarge(maxBytes: number): SkylarkError {
  return new SkylarkError('request_too_large', `The file is larger than the ${maxBytes} bytes allowed.`, { param: 'file' });
}
