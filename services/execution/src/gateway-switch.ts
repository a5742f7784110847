/**
 * An operator's disconnect and connect of execution's gateway session (`sys.session.gateway_*`, from
 * the dashboard). A disconnect holds the session down, through lease changes too, until a connect:
 * without a session no order can be sent, and the lease holder keeps its lease, so no other instance
 * takes over and trades instead.
 */
import { type Bus, serveSessionCommands } from '@ibstack/bus';
import type { IbConnection } from '@ibstack/ib';
import type { Logger } from '@ibstack/observability';

export class GatewaySwitch {
  private held = false;
  private subscription: { stop(): void } | undefined;

  constructor(
    private readonly deps: {
      connection: IbConnection;
      /** Whether this instance holds the lease (a standby has no session to drop or resume). */
      isLeader: () => boolean;
      /** Stops taking intents and commands before the session goes. */
      beforeDisconnect: () => Promise<void>;
      log: Logger;
    },
  ) {}

  /** False while an operator holds the session down. */
  mayConnect(): boolean {
    return !this.held;
  }

  serve(bus: Bus): void {
    this.subscription = serveSessionCommands(bus, 'execution', async (command) => {
      if (command.command !== 'gateway_connect' && command.command !== 'gateway_disconnect') return null;
      const { connection, log } = this.deps;
      if (command.command === 'gateway_disconnect') {
        this.held = true;
        log.warn({ by: command.by, reason: command.reason }, 'operator disconnect: leaving the gateway');
        await this.deps.beforeDisconnect();
        await connection.stop();
        return { ok: true, message: 'gateway session dropped; no order is sent until connect' };
      }
      this.held = false;
      log.info({ by: command.by, reason: command.reason }, 'operator connect: resuming the gateway session');
      if (!this.deps.isLeader()) return { ok: true, message: 'standby: connects when it holds the lease' };
      connection.start();
      return { ok: true, message: 'connecting to the gateway' };
    });
  }

  stop(): void {
    this.subscription?.stop();
  }
}
