/**
 * The dashboard's live view of the stack, from NATS only: core subscriptions to the subjects the
 * services publish on JetStream (no durable consumers: a dashboard that restarts needs the present, not
 * a replay), a watch on the trading state, and the last gateway health and status read back from the
 * SYS stream at start so the page has them before the next heartbeat.
 */
import { type Bus, tradingStateKv } from '@ibstack/bus';
import {
  type GatewayHealth,
  type GatewayStatus,
  KV_KEYS,
  type ReconciliationResult,
  type Topic,
  TradingState,
  topics,
} from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';
import type { Subscription } from '@nats-io/transport-node';
import type { z } from 'zod';

export type LiveEvent =
  | { kind: 'tick'; message: z.infer<typeof topics.tick.schema> }
  | { kind: 'bar'; message: z.infer<typeof topics.bar.schema> }
  | { kind: 'order'; message: z.infer<typeof topics.orderEvent.schema> }
  | { kind: 'fill'; message: z.infer<typeof topics.fill.schema> }
  | { kind: 'account'; message: z.infer<typeof topics.accountSnapshot.schema> }
  | { kind: 'gateway_status'; message: GatewayStatus }
  | { kind: 'gateway_health'; message: GatewayHealth }
  | { kind: 'reconciliation'; message: ReconciliationResult }
  | { kind: 'system_event'; message: z.infer<typeof topics.systemEvent.schema> }
  | { kind: 'trading_state'; message: TradingState };

const decoder = new TextDecoder();

export class LiveFeed {
  private readonly subscriptions: Subscription[] = [];
  private stopWatch: (() => void) | undefined;
  readonly gatewayStatuses = new Map<string, GatewayStatus>();
  gatewayHealth: GatewayHealth | null = null;
  tradingState: TradingState | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly emit: (event: LiveEvent) => void,
  ) {}

  async start(): Promise<void> {
    await this.loadLast();
    this.listen(topics.tick, 'tick');
    this.listen(topics.bar, 'bar');
    this.listen(topics.orderEvent, 'order');
    this.listen(topics.fill, 'fill');
    this.listen(topics.accountSnapshot, 'account');
    this.listen(topics.gatewayStatus, 'gateway_status');
    this.listen(topics.gatewayHealth, 'gateway_health');
    this.listen(topics.reconciliationResult, 'reconciliation');
    this.listen(topics.systemEvent, 'system_event');
    await this.watchTradingState();
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions.length = 0;
    this.stopWatch?.();
  }

  private listen<K extends LiveEvent['kind']>(topic: Topic<z.ZodType>, kind: K): void {
    const subscription = this.bus.nc.subscribe(this.bus.namespace.subject(topic.filter), {
      callback: (error, message) => {
        if (error) return;
        let parsed: ReturnType<typeof topic.schema.safeParse>;
        try {
          parsed = topic.schema.safeParse(JSON.parse(decoder.decode(message.data)));
        } catch {
          return;
        }
        // Invalid messages are the publisher's dead letters to handle; the dashboard only shows valid ones.
        if (!parsed.success) return;
        this.handle({ kind, message: parsed.data } as LiveEvent);
      },
    });
    this.subscriptions.push(subscription);
  }

  private handle(event: LiveEvent): void {
    if (event.kind === 'gateway_status') this.gatewayStatuses.set(event.message.service, event.message);
    if (event.kind === 'gateway_health') this.gatewayHealth = event.message;
    if (event.kind === 'trading_state') this.tradingState = event.message;
    try {
      this.emit(event);
    } catch (error) {
      this.log.error({ err: error, kind: event.kind }, 'could not forward a live event');
    }
  }

  /** The newest gateway health and each service's newest gateway status, from the SYS stream. */
  private async loadLast(): Promise<void> {
    const stream = this.bus.namespace.stream('SYS');
    const last = async (subject: string) => {
      try {
        const message = await this.bus.jsm.streams.getMessage(stream, {
          last_by_subj: this.bus.namespace.subject(subject),
        });
        return message ? (JSON.parse(decoder.decode(message.data)) as unknown) : null;
      } catch {
        return null;
      }
    };
    const health = topics.gatewayHealth.schema.safeParse(await last(topics.gatewayHealth.filter));
    if (health.success) this.gatewayHealth = health.data;
    // All services share one status subject: the newest is known now, the others with their next change.
    const status = topics.gatewayStatus.schema.safeParse(await last(topics.gatewayStatus.filter));
    if (status.success) this.gatewayStatuses.set(status.data.service, status.data);
  }

  private async watchTradingState(): Promise<void> {
    const kv = await tradingStateKv(this.bus);
    this.tradingState = (await kv.get(KV_KEYS.tradingState))?.value ?? null;
    const watch = await kv.raw.watch({ key: KV_KEYS.tradingState, include: 'updates' });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const entry of watch) {
        if (entry.operation !== 'PUT') continue;
        try {
          const parsed = TradingState.safeParse(JSON.parse(decoder.decode(entry.value)));
          if (parsed.success) this.handle({ kind: 'trading_state', message: parsed.data });
        } catch {
          // not JSON: ignored like any invalid value
        }
      }
    })();
  }
}
