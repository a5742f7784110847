import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { z } from 'zod';

import { formatIssues } from './errors';
import type { KvValue, TypedKv } from './kv';

/** JetStream's "wrong last sequence": a compare-and-set lost to another writer. */
const WRONG_LAST_SEQUENCE = 10071;
/** "no message found": the sequence asked for was removed (aged out) meanwhile. */
const NO_MESSAGE = 10037;

const isApiError = (error: unknown, code: number) =>
  error instanceof JetStreamApiError && error.code === code;

/**
 * A KV bucket that holds one key only (the execution lease), read and written by the stream's own
 * sequence instead of the subject's: compare-and-set is `Nats-Expected-Last-Sequence` on the bucket's
 * stream, and a read is its last message by sequence, answered by the stream leader.
 *
 * Why not the KV API's own create/update/get: those go through the server's per-subject index, and NATS
 * 2.9.10 (the only server our machines have) was seen to lose that index on a node of a three-node
 * cluster after the failover drill restarted it — the new leader then accepted every create (two hosts
 * both "won" the lease) and `get` answered nothing. The stream's last sequence stayed right throughout.
 * With one key, "the stream's last message" is "the key's current value", so nothing is lost.
 */
export class SingleKeyKv<T> {
  constructor(
    /** The same bucket through the KV API: for watching it, not for the lease's reads and writes. */
    readonly kv: TypedKv<T>,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly subjectPrefix: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  /** The key's live value and its revision (the stream sequence); null when absent, deleted or aged out. */
  async get(key: string): Promise<KvValue<T> | null> {
    return (await this.read(key)).entry;
  }

  /** Writes only if the key is absent. Null when it is held (or another writer got there first). */
  async create(key: string, value: T): Promise<number | null> {
    const { entry, lastSeq } = await this.read(key);
    if (entry) return null;
    return this.write(key, this.encode(value), lastSeq);
  }

  /** Writes only if nothing was written since `revision`. Null when another writer got there first. */
  async update(key: string, value: T, revision: number): Promise<number | null> {
    return this.write(key, this.encode(value), revision);
  }

  /** Deletes (a tombstone) only if nothing was written since `revision`. False when the CAS lost. */
  async delete(key: string, revision?: number): Promise<boolean> {
    const expected = revision ?? (await this.read(key)).lastSeq;
    const headers = natsHeaders();
    headers.set('KV-Operation', 'DEL');
    return (await this.write(key, new Uint8Array(0), expected, headers)) !== null;
  }

  private async read(key: string): Promise<{ entry: KvValue<T> | null; lastSeq: number }> {
    const info = await this.jsm.streams.info(this.stream);
    const lastSeq = info.state.last_seq;
    if (info.state.messages === 0 || lastSeq === 0) return { entry: null, lastSeq };
    let message;
    try {
      message = await this.jsm.streams.getMessage(this.stream, { seq: lastSeq });
    } catch (error) {
      if (isApiError(error, NO_MESSAGE)) return { entry: null, lastSeq };
      throw error;
    }
    if (!message || message.subject !== `${this.subjectPrefix}${key}`) return { entry: null, lastSeq };
    const operation = message.header?.get('KV-Operation');
    if (operation === 'DEL' || operation === 'PURGE' || message.data.length === 0)
      return { entry: null, lastSeq };
    return { entry: { value: this.decode(key, message.data), revision: message.seq }, lastSeq };
  }

  private async write(
    key: string,
    data: Uint8Array | string,
    expectedLastSeq: number,
    headers?: ReturnType<typeof natsHeaders>,
  ): Promise<number | null> {
    try {
      const ack = await this.js.publish(`${this.subjectPrefix}${key}`, data, {
        // A stream never written to has last sequence 0, which a server may not check: the subject's
        // own (then still sound) index guards that very first write.
        expect:
          expectedLastSeq === 0
            ? { lastSequence: 0, lastSubjectSequence: 0 }
            : { lastSequence: expectedLastSeq },
        ...(headers ? { headers } : {}),
      });
      return ack.seq;
    } catch (error) {
      if (isApiError(error, WRONG_LAST_SEQUENCE)) return null;
      throw error;
    }
  }

  private decode(key: string, data: Uint8Array): T {
    const parsed = this.schema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    if (!parsed.success)
      throw new Error(
        `KV ${this.stream}/${key} holds an invalid value: ${formatIssues(parsed.error.issues)}`,
      );
    return parsed.data;
  }

  private encode(value: T): string {
    return JSON.stringify(this.schema.parse(value));
  }
}
