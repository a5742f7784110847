/**
 * Run-time commands from the dashboard (`sys.session.*`): drop or resume the gateway session, add or
 * remove an instrument. An instrument added here lives until the ingestor restarts; INSTRUMENTS stays
 * the configuration of record.
 */
import { type Bus, type SessionCommandAnswer, serveSessionCommands } from '@ibstack/bus';
import type { IbConnection } from '@ibstack/ib';
import type { Logger } from '@ibstack/observability';

export interface IngestorSessionControl {
  connection: IbConnection;
  addInstrument: (spec: string) => Promise<SessionCommandAnswer>;
  removeInstrument: (key: string) => SessionCommandAnswer;
  log: Logger;
}

export function serveIngestorSessionCommands(bus: Bus, control: IngestorSessionControl): { stop(): void } {
  return serveSessionCommands(bus, 'ingestor', async (command) => {
    switch (command.command) {
      case 'gateway_disconnect':
        control.log.warn(
          { by: command.by, reason: command.reason },
          'operator disconnect: leaving the gateway',
        );
        await control.connection.stop();
        return { ok: true, message: 'gateway session dropped until connect' };
      case 'gateway_connect':
        control.log.info(
          { by: command.by, reason: command.reason },
          'operator connect: resuming the gateway session',
        );
        control.connection.start();
        return { ok: true, message: 'connecting to the gateway' };
      case 'market_data_subscribe':
        control.log.info({ by: command.by, instrument: command.instrument }, 'operator adds an instrument');
        return control.addInstrument(command.instrument);
      case 'market_data_unsubscribe':
        control.log.info(
          { by: command.by, instrument: command.instrument },
          'operator removes an instrument',
        );
        return control.removeInstrument(command.instrument);
    }
  });
}
