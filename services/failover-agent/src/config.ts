import { commonEnv, jsonSetting, milliseconds, port } from '@ibstack/config';
import { SubjectToken } from '@ibstack/contracts';
import { z } from 'zod';

const argv = z.array(z.string().min(1)).min(1);

/** The failover agent's environment (infra/failover/README.md shows a whole host's). */
export const failoverAgentEnv = commonEnv.extend({
  /** @default 9407 */
  HTTP_PORT: port.default(9407),
  /**
   * This host's name: primary, standby (any subject token). This host's execution must run with the
   * same INSTANCE_ID, which is how the agent recognises the lease as its own.
   */
  FAILOVER_HOST: SubjectToken,
  /** The execution lease's TTL, as execution has it (the bucket is created with it if absent). @default 10000 */
  LEASE_TTL_MS: milliseconds(10_000, 500),
  /** How often the agent looks, besides every lease change it is told of. @default 1000 */
  FAILOVER_CHECK_INTERVAL_MS: milliseconds(1_000, 50),
  /**
   * Where each trading host's Postgres takes replication connections, by host name (libpq conninfo,
   * no password: ~/.pgpass). `{source}` in the rejoin command is the lease holder's entry.
   */
  FAILOVER_REPLICATION_SOURCES: jsonSetting(
    z.record(SubjectToken, z.string().min(1)),
    '{"primary":"host=10.77.0.1 user=replicator","standby":"host=10.77.0.2 user=replicator"}',
  ),
  /**
   * Rewinds this host's former-primary Postgres into a replica of the lease holder's, as an argv:
   * `{source}` (the holder's conninfo) and `{slot}` (this host's name) are filled in, e.g.
   * ["infra/failover/postgres/rejoin.sh","/var/lib/postgresql/data","{source}","{slot}"]. Unset: the
   * agent only fences, and the operator runs rejoin.sh (FailoverDemotionPending).
   */
  FAILOVER_REJOIN_COMMAND: jsonSetting(
    argv,
    '["infra/failover/postgres/rejoin.sh","/data","{source}","{slot}"]',
  ),
  /**
   * Brings this host's gateway (and what needs it) up after a promotion, as an argv, e.g.
   * ["docker","compose","--profile","ibga","up","-d","gateway"]. Unset: nothing to start (the gateway
   * runs already, as with the simulated one).
   */
  FAILOVER_TAKEOVER_COMMAND: jsonSetting(argv, '["docker","compose","up","-d","gateway"]'),
  /**
   * Stops this host's gateway and the services that trade through it (ingestor, strategy) when another
   * host holds the lease, as an argv, e.g. ["docker","compose","stop","gateway","ingestor","strategy"]. Unset: nothing
   * to stop.
   */
  FAILOVER_STANDDOWN_COMMAND: jsonSetting(argv, '["docker","compose","stop","ingestor","strategy"]'),
  /** How long the rejoin or takeover command may run before it is killed. @default 300000 */
  FAILOVER_COMMAND_TIMEOUT_MS: milliseconds(300_000, 1_000),
  /** The local NATS node's monitoring address. @default http://127.0.0.1:8222 */
  NATS_MONITOR_URL: z
    .string()
    .url('must be a URL like http://127.0.0.1:8222')
    .default('http://127.0.0.1:8222'),
  /** The WireGuard interface whose handshakes become a metric (`wg show`); unset: none. */
  WIREGUARD_INTERFACE: z.string().min(1).optional(),
});
export type FailoverAgentConfig = z.infer<typeof failoverAgentEnv>;
