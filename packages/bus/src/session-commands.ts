/**
 * The service side of `SessionCommand`s (gateway connect/disconnect, market-data subscribe/unsubscribe):
 * every running instance hears every command through a core subscription (a durable consumer would
 * hand each to one instance only), handles the ones meant for it, and answers on
 * `sys.reply.<commandId>`. A handler's failure is an answer too, never a crash.
 */
import { type ControlReply, nowIso, SessionCommand, topics } from '@ibstack/contracts';

import type { Bus } from './bus';

export interface SessionCommandAnswer {
  ok: boolean;
  message: string;
  /** IB's code when the gateway refused. */
  code?: number;
  instrument?: string;
}

/** Returns the answer, or null when the command is not for this service. */
export type SessionCommandHandler = (command: SessionCommand) => Promise<SessionCommandAnswer | null>;

const decoder = new TextDecoder();

export function serveSessionCommands(
  bus: Bus,
  service: string,
  handler: SessionCommandHandler,
): { stop(): void } {
  const subscription = bus.nc.subscribe(bus.namespace.subject(topics.sessionCommand.filter), {
    callback: (error, message) => {
      if (error) return;
      let command: SessionCommand;
      try {
        const parsed = SessionCommand.safeParse(JSON.parse(decoder.decode(message.data)));
        if (!parsed.success) return;
        command = parsed.data;
      } catch {
        return;
      }
      void handler(command)
        .catch((failure: unknown): SessionCommandAnswer => ({
          ok: false,
          message: failure instanceof Error ? failure.message : String(failure),
        }))
        .then(async (answer) => {
          if (!answer) return;
          const reply: ControlReply = {
            v: 1,
            commandId: command.commandId,
            service,
            ok: answer.ok,
            message: answer.message,
            ...(answer.code === undefined ? {} : { code: answer.code }),
            ...(answer.instrument === undefined ? {} : { instrument: answer.instrument }),
            ts: nowIso(),
          };
          await bus.publish(topics.controlReply, reply);
        })
        .catch((failure: unknown) =>
          bus.logger.warn({ err: failure, command: command.command }, 'could not answer a session command'),
        );
    },
  });
  return { stop: () => subscription.unsubscribe() };
}
