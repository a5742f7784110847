// Produces request frames with `@stoqey/ib`'s own encoder, exactly as the client would put them on the wire.
import { Encoder } from '@stoqey/ib/dist/core/io/encoder';

function flatten(values: readonly unknown[], out: unknown[] = []): unknown[] {
  for (const value of values) {
    if (Array.isArray(value)) flatten(value, out);
    else out.push(value);
  }
  return out;
}

/** The fields of the frames the encoder sends (what the socket would join with NUL). */
export function encodeWithClient(serverVersion: number, call: (encoder: Encoder) => void): string[][] {
  const frames: string[][] = [];
  const encoder = new Encoder({
    serverVersion,
    sendMsg: (...tokens: unknown[]) => {
      const flat = flatten(tokens).map((value) => (value === true ? 1 : value === false ? 0 : value));
      // Array.join turns undefined and null into "", as the client's socket does.
      frames.push(flat.join('\0').split('\0'));
    },
    emitError: (message: string) => {
      throw new Error(`encoder refused: ${message}`);
    },
  });
  call(encoder);
  return frames;
}
