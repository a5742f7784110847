/**
 * Sends a `SessionCommand` and gathers the services' replies: each service that handles it answers on
 * `sys.reply.<commandId>`. The reply subscription is made before the command is published, so no answer
 * can be missed. No answer at all within the timeout is a 504; a refusal (IB's answer for an unknown
 * contract) is a 422 carrying the service's message and IB's code.
 */
import type { Bus } from '@ibstack/bus';
import {
  type ControlReply,
  ControlReply as ControlReplySchema,
  nowIso,
  randomId,
  type SessionCommand,
  subjects,
  topics,
} from '@ibstack/contracts';

import { ApiError, ErrorCode } from './api/errors';

const decoder = new TextDecoder();

export interface ControlOutcome {
  commandId: string;
  command: string;
  outcome: string;
}

type SessionCommandInput = SessionCommand extends infer C
  ? C extends SessionCommand
    ? Omit<C, 'v' | 'commandId' | 'at'>
    : never
  : never;

export class ControlClient {
  constructor(
    private readonly bus: Bus,
    private readonly timeoutMs: number,
    /** Records who asked for what and what came of it (audit_log and sys.audit). */
    private readonly audit: (
      actor: string,
      action: string,
      auditId: string,
      detail: Record<string, unknown>,
    ) => Promise<void>,
  ) {}

  /** The outcome, audited whether it succeeded or not. */
  private async audited(
    by: string,
    command: string,
    detail: Record<string, unknown>,
    run: () => Promise<ControlOutcome>,
  ): Promise<ControlOutcome> {
    try {
      const outcome = await run();
      await this.audit(by, command, `session:${outcome.commandId}`, { ...detail, outcome: outcome.outcome });
      return outcome;
    } catch (error) {
      await this.audit(by, command, `session:${randomId()}`, {
        ...detail,
        outcome: `failed: ${error instanceof Error ? error.message : String(error)}`,
      });
      throw error;
    }
  }

  async send(
    command: SessionCommandInput,
    expected: readonly string[],
  ): Promise<{ commandId: string; replies: ControlReply[] }> {
    const commandId = randomId();
    const replies: ControlReply[] = [];
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const subscription = this.bus.nc.subscribe(this.bus.namespace.subject(subjects.controlReply(commandId)), {
      callback: (error, message) => {
        if (error) return;
        try {
          const parsed = ControlReplySchema.safeParse(JSON.parse(decoder.decode(message.data)));
          if (!parsed.success || replies.some((reply) => reply.service === parsed.data.service)) return;
          replies.push(parsed.data);
          if (expected.every((service) => replies.some((reply) => reply.service === service))) settle();
        } catch {
          // not JSON: not a reply
        }
      },
    });
    const timer = setTimeout(settle, this.timeoutMs);
    try {
      await this.bus.nc.flush();
      await this.bus.publish(topics.sessionCommand, {
        ...command,
        v: 1,
        commandId,
        at: nowIso(),
      });
      await done;
    } finally {
      clearTimeout(timer);
      subscription.unsubscribe();
    }
    return { commandId, replies };
  }

  async gateway(by: string, action: 'connect' | 'disconnect', reason: string): Promise<ControlOutcome> {
    const command = action === 'connect' ? 'gateway_connect' : 'gateway_disconnect';
    return this.audited(by, command, { reason }, async () => {
      const { commandId, replies } = await this.send({ command, by, reason }, ['execution', 'ingestor']);
      return this.outcome(commandId, command, replies, ['execution', 'ingestor']);
    });
  }

  async marketData(
    by: string,
    action: 'subscribe' | 'unsubscribe',
    instrument: string,
  ): Promise<ControlOutcome> {
    const command = action === 'subscribe' ? 'market_data_subscribe' : 'market_data_unsubscribe';
    return this.audited(by, command, { instrument }, async () => {
      const { commandId, replies } = await this.send({ command, by, instrument }, ['ingestor']);
      return this.outcome(commandId, command, replies, ['ingestor']);
    });
  }

  private outcome(
    commandId: string,
    command: string,
    replies: ControlReply[],
    expected: string[],
  ): ControlOutcome {
    if (replies.length === 0)
      throw new ApiError(
        504,
        ErrorCode.timeout,
        `no answer from ${expected.join(' or ')} within ${this.timeoutMs} ms (command ${commandId})`,
      );
    const refused = replies.find((reply) => !reply.ok);
    if (refused)
      throw new ApiError(
        refused.code === undefined ? 409 : 422,
        refused.code === undefined ? ErrorCode.conflict : ErrorCode.refused,
        `${refused.service}: ${refused.message}${refused.code === undefined ? '' : ` (IB ${refused.code})`}`,
        command.startsWith('market_data') ? 'instrument' : undefined,
      );
    const missing = expected.filter((service) => !replies.some((reply) => reply.service === service));
    const text = replies.map((reply) => `${reply.service}: ${reply.message}`).join('; ');
    return {
      commandId,
      command,
      outcome: missing.length > 0 ? `${text}; no answer from ${missing.join(', ')}` : text,
    };
  }
}
