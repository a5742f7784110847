/**
 * TWS API framing (the "v100+" protocol). The client opens with `API\0`, a 4-byte big-endian length and a
 * version range like `v100..193`; after that both directions send frames of a 4-byte big-endian length
 * followed by NUL-terminated text fields. Bytes may arrive split or merged across reads at any point.
 */
import { ProtocolViolationError } from '../errors';

const API_PREFIX = Buffer.from('API\0', 'latin1');
/** IB's own client limit (16 MiB − 1); a longer frame is a broken or hostile peer. */
export const MAX_FRAME_LENGTH = 0xffffff;
/** The version announcement is a few bytes ("v100..193" plus optional connect options). */
const MAX_HANDSHAKE_LENGTH = 1024;

export interface ClientHello {
  minVersion: number;
  maxVersion: number;
  /** Connect options after the range (`+PACEAPI`), empty when none. */
  options: string;
}

export type InboundEvent = { kind: 'hello'; hello: ClientHello } | { kind: 'frame'; fields: string[] };

/** Parses `v100..193`, `v176` or `v100..193 +PACEAPI`; undefined when it is not a version range. */
export function parseVersionRange(text: string): ClientHello | undefined {
  const match = /^v(\d{1,4})(?:\.\.(\d{1,4}))?(?:\s+(.*))?$/s.exec(text);
  if (!match) return undefined;
  const minVersion = Number(match[1]);
  const maxVersion = match[2] === undefined ? minVersion : Number(match[2]);
  if (maxVersion < minVersion) return undefined;
  return { minVersion, maxVersion, options: (match[3] ?? '').trim() };
}

/** Splits a frame payload into its fields. Every field, the last too, ends with NUL. */
export function splitFields(payload: Buffer): string[] {
  const text = payload.toString('utf8');
  const parts = text.split('\0');
  // A well-formed payload ends with NUL, leaving one empty string after the split; a payload without the
  // final NUL still yields its last field rather than losing it.
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * Incremental reader for one connection's inbound bytes. Throws ProtocolViolationError on garbage. Chunks
 * are kept as they arrive and joined only once a whole message is there, so a large frame arriving in many
 * reads costs its length once, not once per read.
 */
export class InboundReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private greeted = false;

  /** Bytes received but not yet forming a complete message. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): InboundEvent[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const events: InboundEvent[] = [];
    for (;;) {
      const event = this.greeted ? this.readFrame() : this.readHello();
      if (!event) break;
      events.push(event);
    }
    return events;
  }

  /** The first `bytes` buffered bytes as one buffer (fewer if fewer are buffered), joining only those. */
  private head(bytes: number): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length >= bytes || this.chunks.length === 1) return first;
    let joined = 0;
    let count = 0;
    while (count < this.chunks.length && joined < bytes) joined += this.chunks[count++]!.length;
    const merged = Buffer.concat(this.chunks.slice(0, count), joined);
    this.chunks.splice(0, count, merged);
    return merged;
  }

  /** Drops the first `bytes` buffered bytes (they lie in the first chunk: `head` joined them). */
  private consume(bytes: number): void {
    const first = this.chunks[0]!;
    if (first.length === bytes) this.chunks.shift();
    else this.chunks[0] = first.subarray(bytes);
    this.buffered -= bytes;
  }

  private readHello(): InboundEvent | undefined {
    const prefixBytes = Math.min(this.buffered, API_PREFIX.length);
    const start = this.head(API_PREFIX.length + 4);
    if (!start.subarray(0, prefixBytes).equals(API_PREFIX.subarray(0, prefixBytes))) {
      throw new ProtocolViolationError('the connection did not start with "API\\0"', 'bad-prefix');
    }
    if (this.buffered < API_PREFIX.length + 4) return undefined;
    const length = start.readUInt32BE(API_PREFIX.length);
    if (length > MAX_HANDSHAKE_LENGTH) {
      throw new ProtocolViolationError(`version announcement of ${length} bytes`, 'bad-version');
    }
    const end = API_PREFIX.length + 4 + length;
    if (this.buffered < end) return undefined;
    const text = this.head(end)
      .subarray(API_PREFIX.length + 4, end)
      .toString('utf8')
      .replace(/\0+$/, '');
    this.consume(end);
    const hello = parseVersionRange(text);
    if (!hello) {
      throw new ProtocolViolationError(`"${text.slice(0, 64)}" is not a version range`, 'bad-version');
    }
    this.greeted = true;
    return { kind: 'hello', hello };
  }

  private readFrame(): InboundEvent | undefined {
    if (this.buffered < 4) return undefined;
    const length = this.head(4).readUInt32BE(0);
    if (length > MAX_FRAME_LENGTH) {
      throw new ProtocolViolationError(
        `frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`,
        'oversized-frame',
      );
    }
    // Nothing is joined until the whole frame is here.
    if (this.buffered < 4 + length) return undefined;
    const payload = this.head(4 + length).subarray(4, 4 + length);
    this.consume(4 + length);
    return { kind: 'frame', fields: splitFields(payload) };
  }
}

export type Field = string | number;

/** One outbound frame: length prefix, then every field NUL-terminated (the last one too). */
export function encodeFrame(fields: readonly Field[]): Buffer {
  let text = '';
  for (const field of fields) text += `${field}\0`;
  const length = Buffer.byteLength(text, 'utf8');
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(text, 4, 'utf8');
  return frame;
}
