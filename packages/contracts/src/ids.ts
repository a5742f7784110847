import { hash, randomUUID } from 'node:crypto';

import type { InstrumentKey } from './instrument';
import type { IntentId } from './orders';

/**
 * The intent id is a hash of what identifies the decision, so the same bar processed twice (after a
 * restart, a replay) yields the same id, and JetStream and Postgres drop the second one.
 */
export function deriveIntentId(parts: {
  sleeve: string;
  instrument: InstrumentKey;
  barTs: string;
  sequence: number;
  /**
   * The instrument whose bar or tick triggered the intent, when it is not the one traded: a sleeve that
   * trades two instruments sees a bar of each at the same time, and the two triggers must not share ids.
   */
  triggeredBy?: InstrumentKey;
}): IntentId {
  const material = [parts.sleeve, parts.instrument, parts.barTs, String(parts.sequence)];
  // Left out when it is the traded instrument, so single-instrument ids stay what they always were.
  if (parts.triggeredBy !== undefined && parts.triggeredBy !== parts.instrument)
    material.push(`by:${parts.triggeredBy}`);
  // One-shot `hash`: the same digest as createHash().update().digest(), without a Hash object per id.
  return hash('sha256', material.join('\u0000'), 'hex').slice(0, 32) as IntentId;
}

/** A deterministic id from parts, for events that can be replayed (order transitions, fills). */
export function deterministicId(...parts: Array<string | number>): string {
  return hash('sha256', parts.map(String).join('\u0000'), 'hex').slice(0, 32);
}

/** A random id for things that happen once (an operator command, a reconciliation run). */
export function randomId(): string {
  return randomUUID();
}

/**
 * IB execution ids look like `0000e0d5.6745a1b2.01.01`. A correction of an execution keeps everything up to
 * the last dot and increments the last part (hexadecimal): `….01.02` replaces `….01.01`. An id without a
 * readable revision is its own base, revision 0.
 */
export function parseExecId(execId: string): { base: string; revision: number } {
  const cut = execId.lastIndexOf('.');
  if (cut <= 0) return { base: execId, revision: 0 };
  const revision = Number.parseInt(execId.slice(cut + 1), 16);
  return Number.isFinite(revision) ? { base: execId.slice(0, cut), revision } : { base: execId, revision: 0 };
}
