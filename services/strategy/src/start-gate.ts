import type { MessageContext } from '@ibstack/bus';

/**
 * Holds consumer handlers until start-up is done. Consumers are created before warm-up (a new durable
 * starts "now", so creating it first leaves no gap), and what they deliver meanwhile must wait for the
 * book and the strategies to be ready.
 */
export class StartGate {
  private readonly opened: Promise<void>;
  private resolveOpened: () => void = () => undefined;
  private rejectOpened: (error: Error) => void = () => undefined;

  /** @param heartbeatMs How often a waiting or working handler tells JetStream it is still on the message. */
  constructor(private readonly heartbeatMs: number) {
    this.opened = new Promise<void>((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    // Handlers wait on `opened`; a stop before it rejects it, and nothing else should report it unhandled.
    this.opened.catch(() => undefined);
  }

  open(): void {
    this.resolveOpened();
  }

  /** Fails the handlers still waiting (the service stops before it started); their messages come back. */
  close(error: Error): void {
    this.rejectOpened(error);
  }

  /** Runs `work` once the gate is open, telling JetStream the message is being worked on meanwhile. */
  async pass(context: MessageContext, work: () => Promise<void>): Promise<void> {
    const heartbeat = setInterval(() => context.working(), this.heartbeatMs);
    try {
      await this.opened;
      await work();
    } finally {
      clearInterval(heartbeat);
    }
  }
}
