// Feeds frames the simulator built into `@stoqey/ib`'s own decoder, so a layout mistake shows up as the
// client's 505 "Underrun"/"unprocessed data" errors in a unit test rather than as a silent lost event.
import { Decoder } from '@stoqey/ib/dist/core/io/decoder';

import type { Field } from '../../src/protocol/framing';

export interface DecodedEvent {
  name: string;
  args: unknown[];
}

export interface DecodeResult {
  events: DecodedEvent[];
  errors: Array<{ message: string; code: number }>;
  infos: Array<{ message: string; code: number }>;
}

/** Decodes frames (field lists, message id first) as the client does at `serverVersion`. */
export function decodeWithClient(
  serverVersion: number,
  frames: ReadonlyArray<readonly Field[]>,
): DecodeResult {
  const result: DecodeResult = { events: [], errors: [], infos: [] };
  const decoder = new Decoder({
    serverVersion,
    emitEvent: (name: string, ...args: unknown[]) => result.events.push({ name, args }),
    emitError: (message: string, code: number) => result.errors.push({ message, code }),
    emitInfo: (message: string, code: number) => result.infos.push({ message, code }),
  });
  for (const frame of frames) {
    // What the client's socket does: split the payload on NUL and drop the terminator's empty string.
    const text = frame.map(String).join('\0') + '\0';
    decoder.enqueueMessage(text.split('\0').slice(0, -1));
  }
  decoder.process();
  return result;
}
