import { Bus } from '@ibstack/bus';
import { createRegistry, type Registry } from '@ibstack/observability';

import { testEnvironment, uniqueSuffix } from './environment';
import { silentLogger } from './logger';

export interface TestBus {
  readonly bus: Bus;
  readonly namespace: string;
  readonly registry: Registry;
  /** Deletes this namespace's streams and buckets and closes the connection. */
  destroy(): Promise<void>;
}

/** A bus in a namespace of its own (`t<random>`), with the streams created. */
export async function createTestBus(options: { namespace?: string; name?: string } = {}): Promise<TestBus> {
  const namespace = options.namespace ?? `t${uniqueSuffix()}`;
  const registry = createRegistry('test', { defaultMetrics: false });
  const bus = await Bus.connect({
    url: testEnvironment().natsUrl,
    name: options.name ?? 'test',
    namespace,
    logger: silentLogger(),
    registry,
  });
  await bus.ensureStreams();
  return {
    bus,
    namespace,
    registry,
    destroy: async () => {
      await bus.destroyNamespace();
      await bus.close();
    },
  };
}
