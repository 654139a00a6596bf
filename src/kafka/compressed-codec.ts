import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { StateCodec } from './state-store.ts';

/** First byte of a compressed value: JSON text never starts with it. */
const COMPRESSED = 0x00;

/**
 * JSON state values, Brotli-compressed above `thresholdBytes` (smaller ones stay plain JSON, readable
 * with Kafka's console tools). The window is large (16 MiB) because a big value repeats itself far
 * apart: a segment's members are in its kept images and in each of its records. Plain JSON values
 * (written before, or small) decode as they are.
 */
export function compressedJsonCodec<V>(thresholdBytes = 16_384): StateCodec<V> {
  return {
    encode(value) {
      const json = Buffer.from(JSON.stringify(value));
      if (json.length < thresholdBytes) return json;
      const packed = brotliCompressSync(json, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: json.length },
      });
      return Buffer.concat([Buffer.from([COMPRESSED]), packed]);
    },
    decode(bytes) {
      const json = bytes[0] === COMPRESSED ? brotliDecompressSync(bytes.subarray(1)) : bytes;
      return JSON.parse(json.toString('utf8')) as V;
    },
  };
}
