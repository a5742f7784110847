/**
 * The TWS API port. Can stop listening for a while (so clients see ECONNREFUSED, as with a Gateway that is
 * down or restarting) and listen again on the same port, and tracks every socket so they can be dropped.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

import type { Logger } from '@ibstack/observability';

export class TcpListener {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private portValue = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  private refusedUntil = 0;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly onConnection: (socket: Socket) => void,
    private readonly log: Logger,
  ) {}

  get port(): number {
    return this.portValue;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  async listen(port: number): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.onConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.log.error({ err: error }, 'TWS API listener error'));
    this.server = server;
    this.portValue = (server.address() as AddressInfo).port;
  }

  /** Stops accepting for `ms` (ECONNREFUSED), then listens on the same port again. Open sockets stay. */
  refuse(ms: number): void {
    this.refusedUntil = Math.max(this.refusedUntil, Date.now() + ms);
    this.stopListening();
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => void this.reopen(), Math.max(0, this.refusedUntil - Date.now()));
    this.reopenTimer.unref();
  }

  /** Stops accepting until `reopen()`. */
  pause(): void {
    this.stopListening();
  }

  async reopen(): Promise<void> {
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.refusedUntil = 0;
    if (this.closed || this.server) return;
    // The port was ours a moment ago; if another process took it meanwhile, retry rather than move.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.listen(this.portValue);
        return;
      } catch (error) {
        if (this.closed || attempt >= 50) {
          this.log.error({ err: error, port: this.portValue }, 'cannot listen again on the TWS API port');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const server = this.server;
    this.server = undefined;
    this.dropAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private stopListening(): void {
    const server = this.server;
    this.server = undefined;
    // close() stops accepting at once; its callback waits for open sockets, which stay until dropped.
    server?.close();
  }
}
