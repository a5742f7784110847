import { type GatewayStatus, nowIso, type SystemEvent } from '@ibstack/contracts';

import type { MarketDataBus } from './adapters/nats-bus';

export const SERVICE = 'ingestor';

export interface AnnouncerOptions {
  bus: MarketDataBus;
  /** Epoch ms, for the messages' `ts`. */
  wallClock: () => number;
  gateway: { host: string; port: number; clientId: number };
  /** The gateway's server version once a session has told it. */
  serverVersion: () => number | undefined;
}

/** What the ingestor tells the rest of the stack about itself: `sys.event.ingestor` and `sys.gateway.status`. */
export class Announcer {
  constructor(private readonly options: AnnouncerOptions) {}

  /** A system event whose id is made of its code and `idParts`, so the same news is announced once. */
  systemEvent(
    code: string,
    severity: SystemEvent['severity'],
    message: string,
    detail: Record<string, unknown>,
    idParts: string[],
  ): void {
    const event: SystemEvent = {
      v: 1,
      eventId: [SERVICE, code, ...idParts].join(':').slice(0, 128),
      service: SERVICE,
      severity,
      code,
      message,
      detail,
      ts: nowIso(this.options.wallClock),
    };
    void this.options.bus.publishSystemEvent(event);
  }

  gatewayStatus(state: GatewayStatus['state'], code?: number, message?: string): void {
    const { gateway } = this.options;
    const status: GatewayStatus = {
      v: 1,
      service: SERVICE,
      state,
      host: gateway.host,
      port: gateway.port,
      clientId: gateway.clientId,
      ts: nowIso(this.options.wallClock),
    };
    const serverVersion = this.options.serverVersion();
    if (serverVersion) status.serverVersion = serverVersion;
    if (code !== undefined) status.code = code;
    if (message !== undefined) status.message = message;
    void this.options.bus.publishGatewayStatus(status);
  }
}
