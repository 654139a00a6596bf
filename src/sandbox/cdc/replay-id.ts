/** Pub/Sub replay ids travel as 8-byte big-endian unsigned integers. */
export function encodeReplayId(replayId: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(replayId));
  return buf;
}

/** The replay id in `bytes`, or undefined when it is not 8 bytes or beyond a safe integer. */
export function decodeReplayId(bytes: Buffer | Uint8Array | undefined): number | undefined {
  if (!bytes || bytes.length !== 8) return undefined;
  const value = Buffer.from(bytes).readBigUInt64BE();
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}
