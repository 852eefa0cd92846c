/**
 * RIFF/WAVE PCM: written for the sim engine's speech, read to measure an uploaded file's
 * duration for billing transcription. Only the header is parsed; samples are never decoded.
 */

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** A WAV file around 16-bit (or other) little-endian PCM samples. */
export function wavFile(pcm: Uint8Array, format: PcmFormat): Buffer {
  const blockAlign = (format.channels * format.bitsPerSample) / 8;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(format.channels, 22);
  header.writeUInt32LE(format.sampleRate, 24);
  header.writeUInt32LE(format.sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(format.bitsPerSample, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/** The duration of a WAV file in milliseconds, or undefined when the bytes are not one. */
export function wavDurationMs(bytes: Uint8Array): number | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 12 || buffer.toString('ascii', 0, 4) !== 'RIFF' || buffer.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  for (let offset = 12; offset + 8 <= buffer.length; ) {
    const id = buffer.toString('ascii', offset, offset + 4);
    const size = buffer.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 12 <= buffer.length) byteRate = buffer.readUInt32LE(body + 8);
    if (id === 'data') {
      if (byteRate === undefined || byteRate === 0) return undefined;
      // A streamed WAV may say 0 or 0xFFFFFFFF: the data then runs to the end of the file.
      const available = buffer.length - body;
      const dataBytes = size === 0 || size === 0xffffffff ? available : Math.min(size, available);
      return (dataBytes * 1000) / byteRate;
    }
    offset = body + size + (size % 2); // chunks are padded to an even length
  }
  return undefined;
}
