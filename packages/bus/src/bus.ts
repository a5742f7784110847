import {
  DiscardPolicy,
  jetstream,
  type JetStreamClient,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamManager,
  type PubAck,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DAY_MS, type StreamName, STREAMS, type Topic } from '@ibstack/contracts';
import type { Logger, Registry } from '@ibstack/observability';
import type { z } from 'zod';

import { type ConsumerHandle, type ConsumerOptions, startConsumer } from './consumer';
import { BusUnavailableError, InvalidMessageError } from './errors';
import { TypedKv } from './kv';
import { SingleKeyKv } from './single-key-kv';
import { busMetrics, type BusMetrics } from './metrics';
import { Namespace } from './namespace';

const NANOS_PER_MS = 1_000_000;

export interface StreamLimits {
  /** How long a stream keeps messages. */
  maxAgeMs: number;
  /** Window in which a repeated Nats-Msg-Id is dropped. */
  duplicateWindowMs: number;
}

/** @default MD 7 days, ORDERS 30 days, SYS 30 days. */
export const DEFAULT_STREAM_LIMITS: Readonly<Record<StreamName, StreamLimits>> = {
  MD: { maxAgeMs: 7 * DAY_MS, duplicateWindowMs: 2 * 60_000 },
  ORDERS: { maxAgeMs: 30 * DAY_MS, duplicateWindowMs: 10 * 60_000 },
  SYS: { maxAgeMs: 30 * DAY_MS, duplicateWindowMs: 2 * 60_000 },
};

export interface BusOptions {
  url: string;
  /** Connection name shown by the NATS server (`ingestor`, `execution`). */
  name: string;
  /** Prefix for subjects, streams and buckets; empty in production. */
  namespace?: string;
  logger: Logger;
  registry: Registry;
  /** How long to wait for the first connection before failing. @default 5000 */
  connectTimeoutMs?: number;
  /**
   * Replicas of every stream and KV bucket: 1 on a single server, 3 in the failover cluster
   * (infra/failover), where the lease, the trading state and the orders must outlive any one node.
   * @default 1
   */
  replicas?: number;
}

export interface PublishOptions {
  /** Overrides the topic's own `Nats-Msg-Id`. */
  msgId?: string;
}

/** The settings of `commonEnv` (packages/config) a service connects with. */
export interface BusEnv {
  NATS_URL: string;
  NATS_REPLICAS?: number;
  BUS_NAMESPACE?: string;
}

/**
 * The NATS connection every service uses: JetStream streams and KV buckets created idempotently,
 * validated publishing with de-duplication ids, durable consumers with a dead-letter subject.
 */
export class Bus {
  readonly namespace: Namespace;
  readonly metrics: BusMetrics;
  private readonly kvm: Kvm;
  private readonly consumers = new Set<ConsumerHandle>();
  private connected = true;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly options: BusOptions,
  ) {
    this.namespace = new Namespace(options.namespace ?? '');
    this.metrics = busMetrics(options.registry);
    this.metrics.connected.set(1);
    this.kvm = new Kvm(nc);
    void this.watchStatus();
  }

  static async connect(options: BusOptions): Promise<Bus> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.url.split(',').map((server) => server.trim()),
        // In a cluster each host lists its own node first: clients stay on their local node while it is
        // up (no cross-host round trip on every publish) and fail over in the order given.
        noRandomize: true,
        name: options.name,
        timeout: options.connectTimeoutMs ?? 5_000,
        // After the first connection, never give up: a service waits for NATS to come back.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        pingInterval: 10_000,
        maxPingOut: 3,
        // Capturing an async stack trace on every publish costs more than the publish on the hot path;
        // our errors name the operation themselves.
        noAsyncTraces: true,
      });
    } catch (error) {
      throw new BusUnavailableError(options.url, { cause: error });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5_000 });
      return new Bus(nc, jetstream(nc, { timeout: 5_000 }), jsm, options);
    } catch (error) {
      await nc.close();
      throw new BusUnavailableError(options.url, {
        cause: new Error(
          `JetStream is not enabled (${error instanceof Error ? error.message : String(error)})`,
        ),
      });
    }
  }

  /**
   * Connects a service the way every service does: from its environment, under its name, with the
   * streams made sure of. A failure closes what was opened.
   */
  static async connectService(
    name: string,
    env: BusEnv,
    deps: { logger: Logger; registry: Registry; connectTimeoutMs?: number },
  ): Promise<Bus> {
    const bus = await Bus.connect({
      url: env.NATS_URL,
      replicas: env.NATS_REPLICAS,
      name,
      namespace: env.BUS_NAMESPACE,
      logger: deps.logger,
      registry: deps.registry,
      connectTimeoutMs: deps.connectTimeoutMs,
    });
    try {
      await bus.ensureStreams();
    } catch (error) {
      await bus.close().catch(() => undefined);
      throw error;
    }
    return bus;
  }

  get replicas(): number {
    return this.options.replicas ?? 1;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.metrics.connected.set(0);
        this.logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.metrics.connected.set(1);
        this.logger.info({ server: status.server }, 'reconnected to NATS');
      } else if (status.type === 'error') {
        this.logger.error({ err: status.error }, 'NATS error');
      }
    }
  }

  /** Creates (or brings up to date) the streams. Safe to call from every service at every start. */
  async ensureStreams(limits: Partial<Record<StreamName, Partial<StreamLimits>>> = {}): Promise<void> {
    for (const [base, definition] of Object.entries(STREAMS) as Array<
      [StreamName, (typeof STREAMS)[StreamName]]
    >) {
      const limit = { ...DEFAULT_STREAM_LIMITS[base], ...limits[base] };
      const config: Partial<StreamConfig> & { name: string } = {
        name: this.namespace.stream(definition.name),
        subjects: definition.subjects.map((subject) => this.namespace.subject(subject)),
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: limit.maxAgeMs * NANOS_PER_MS,
        duplicate_window: Math.min(limit.duplicateWindowMs, limit.maxAgeMs) * NANOS_PER_MS,
        // MD is replicated like the others: an R1 stream lives on one node and is gone with it, and an
        // R2 stream has no quorum once either node is lost, so only R3 keeps bars flowing on takeover.
        num_replicas: this.replicas,
      };
      await this.addOrUpdateStream(config);
    }
  }

  private async addOrUpdateStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      await this.jsm.streams.add(config);
    } catch (error) {
      // 10058: the stream exists with another configuration; bring it to ours (subjects, limits).
      if (error instanceof JetStreamApiError && error.code === 10058) {
        await this.jsm.streams.update(config.name, config);
        return;
      }
      throw error;
    }
  }

  /** Deletes this namespace's streams and buckets. For tests; refuses to run without a namespace. */
  async destroyNamespace(): Promise<void> {
    if (!this.namespace.prefix)
      throw new Error('refusing to delete the production streams (no namespace set)');
    const names = [
      ...Object.values(STREAMS).map((stream) => this.namespace.stream(stream.name)),
      `KV_${this.namespace.bucket('trading')}`,
      `KV_${this.namespace.bucket('leases')}`,
      `KV_${this.namespace.bucket('lease-mark')}`,
    ];
    for (const name of names) {
      await this.jsm.streams.delete(name).catch(() => undefined);
    }
  }

  /**
   * Validates against the topic's contract and publishes to JetStream with the topic's `Nats-Msg-Id`.
   * Throws InvalidMessageError (nothing sent) or the publish error; resolves once JetStream stored it or
   * recognised it as a duplicate.
   */
  async publish<S extends z.ZodType>(
    topic: Topic<S>,
    message: z.input<S>,
    options: PublishOptions = {},
  ): Promise<PubAck> {
    const parsed = topic.schema.safeParse(message);
    if (!parsed.success) {
      this.metrics.publishErrors.inc({ topic: topic.name, reason: 'invalid' });
      throw new InvalidMessageError(topic.name, parsed.error.issues);
    }
    const value = parsed.data;
    const subject = this.namespace.subject(topic.subjectOf(value));
    try {
      const ack = await this.js.publish(subject, JSON.stringify(value), {
        msgID: options.msgId ?? topic.msgIdOf(value),
      });
      if (ack.duplicate) this.metrics.publishDuplicates.inc({ topic: topic.name });
      else this.metrics.published.inc({ topic: topic.name });
      return ack;
    } catch (error) {
      this.metrics.publishErrors.inc({ topic: topic.name, reason: 'not_acknowledged' });
      throw error;
    }
  }

  /** Starts a durable pull consumer; see ConsumerOptions. Stopped by `close()` or the returned handle. */
  async consume<S extends z.ZodType>(
    topic: Topic<S>,
    options: ConsumerOptions<z.infer<S>>,
  ): Promise<ConsumerHandle> {
    const handle = await startConsumer(this, topic, options);
    this.consumers.add(handle);
    void handle.closed.then(() => this.consumers.delete(handle));
    return handle;
  }

  /** A KV bucket (created if absent) whose values are validated against a schema. */
  async kv<S extends z.ZodType>(
    bucket: string,
    schema: S,
    options: {
      ttlMs?: number;
      history?: number;
      /**
       * How long one operation waits for JetStream before it fails, when shorter than the connection's
       * 5 s: a lease renewal must fail fast and retry while the bucket's replicas elect a new leader.
       */
      operationTimeoutMs?: number;
      /**
       * Read through the bucket stream's leader (`STREAM.MSG.GET`) rather than a direct get, which any
       * replica answers: the leader has every committed write, so a value just written is never read back
       * older, and a read does not hang on a replica the cluster has lost. In the failover drill (NATS 2.9)
       * the surviving nodes kept their route to a cut node for ~25 s, and in that window direct gets of the
       * trading state timed out (5 s, then the order was refused, failing closed) while the lease's leader
       * reads went through. @default false
       */
      leaderReads?: boolean;
    } = {},
  ): Promise<TypedKv<z.infer<S>>> {
    const name = this.namespace.bucket(bucket);
    const kvm = options.operationTimeoutMs
      ? new Kvm(jetstream(this.nc, { timeout: options.operationTimeoutMs }))
      : this.kvm;
    const kv = await kvm.create(name, {
      history: options.history ?? 1,
      replicas: this.replicas,
      ...(options.ttlMs ? { ttl: options.ttlMs } : {}),
      // For an existing bucket this only chooses how this handle reads; its configuration stays as it is.
      ...(options.leaderReads ? { allow_direct: false } : {}),
    });
    // Kvm.create leaves an existing bucket as it is: bring its replicas to ours (a single server that
    // joined a cluster, NATS_REPLICAS raised from 1 to 3).
    const stream = await this.jsm.streams.info(`KV_${name}`);
    if (stream.config.num_replicas !== this.replicas)
      await this.jsm.streams.update(stream.config.name, { ...stream.config, num_replicas: this.replicas });
    if (options.ttlMs) await this.ensureKvTtl(bucket, options.ttlMs);
    return new TypedKv<z.infer<S>>(kv, schema as z.ZodType<z.infer<S>>, bucket);
  }

  /**
   * A KV bucket holding one key (the execution lease), read and written by its stream's sequence: see
   * SingleKeyKv. `operationTimeoutMs` as for `kv`.
   */
  async singleKeyKv<S extends z.ZodType>(
    bucket: string,
    schema: S,
    options: { ttlMs?: number; operationTimeoutMs?: number } = {},
  ): Promise<SingleKeyKv<z.infer<S>>> {
    const kv = await this.kv(bucket, schema, options);
    const timeout = options.operationTimeoutMs ?? 5_000;
    const name = this.namespace.bucket(bucket);
    return new SingleKeyKv<z.infer<S>>(
      kv,
      jetstream(this.nc, { timeout }),
      await jetstreamManager(this.nc, { timeout }),
      `KV_${name}`,
      `$KV.${name}.`,
      schema as z.ZodType<z.infer<S>>,
    );
  }

  /**
   * A bucket keeps the TTL it was first created with (opening it again with another TTL changes nothing),
   * so a lease whose TTL was raised in the configuration would age out between renewals while its holder
   * believes it holds it. Brings the bucket's max age to `ttlMs`. Returns the TTL it had when it differed.
   */
  async ensureKvTtl(bucket: string, ttlMs: number): Promise<number | null> {
    const name = `KV_${this.namespace.bucket(bucket)}`;
    const info = await this.jsm.streams.info(name);
    const wanted = ttlMs * 1_000_000; // JetStream keeps durations in nanoseconds
    if (info.config.max_age === wanted) return null;
    const previousMs = Math.round(info.config.max_age / 1_000_000);
    await this.jsm.streams.update(name, {
      ...info.config,
      max_age: wanted,
      // JetStream refuses a duplicate window longer than the max age.
      duplicate_window: Math.min(info.config.duplicate_window || wanted, wanted),
    });
    this.logger.warn(
      { bucket, previousTtlMs: previousMs, ttlMs },
      'KV bucket TTL differed from the configuration: updated it',
    );
    return previousMs;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}
