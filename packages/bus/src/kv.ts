import type { KV } from '@nats-io/kv';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { z } from 'zod';

import { formatIssues } from './errors';

export interface KvValue<T> {
  value: T;
  revision: number;
}

/** JetStream's "wrong last sequence": a compare-and-set lost to another writer. */
function isWrongLastSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === 10071;
}

/**
 * A KV bucket whose values are JSON validated by a schema. `create` and `update` are compare-and-set:
 * they return null instead of throwing when another writer got there first, which is the normal outcome
 * of a lease race rather than an error.
 */
export class TypedKv<T> {
  constructor(
    readonly raw: KV,
    private readonly schema: z.ZodType<T>,
    readonly bucket: string,
  ) {}

  private decode(key: string, data: Uint8Array): T {
    const parsed = this.schema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    if (!parsed.success)
      throw new Error(
        `KV ${this.bucket}/${key} holds an invalid value: ${formatIssues(parsed.error.issues)}`,
      );
    return parsed.data;
  }

  private encode(value: T): string {
    return JSON.stringify(this.schema.parse(value));
  }

  async get(key: string): Promise<KvValue<T> | null> {
    const entry = await this.raw.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return null;
    return { value: this.decode(key, entry.value), revision: entry.revision };
  }

  async put(key: string, value: T): Promise<number> {
    return this.raw.put(key, this.encode(value));
  }

  /** Writes only if the key is absent (never set, deleted, or aged out). Null if it exists. */
  async create(key: string, value: T): Promise<number | null> {
    try {
      return await this.raw.create(key, this.encode(value));
    } catch (error) {
      if (isWrongLastSequence(error)) return null;
      throw error;
    }
  }

  /** Writes only if the key is still at `revision`. Null if someone else wrote since. */
  async update(key: string, value: T, revision: number): Promise<number | null> {
    try {
      return await this.raw.update(key, this.encode(value), revision);
    } catch (error) {
      if (isWrongLastSequence(error)) return null;
      throw error;
    }
  }

  /** Deletes, optionally only if still at `revision`. Returns false if the CAS lost. */
  async delete(key: string, revision?: number): Promise<boolean> {
    try {
      await this.raw.delete(key, revision === undefined ? undefined : { previousSeq: revision });
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }
}
