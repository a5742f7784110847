/**
 * Alert latency: from the gateway dropping every API session (the gateway-sim refuses connections and
 * drops the open ones) to the IBGatewayDown message at a fake Telegram Bot API, through the stack of
 * `npm start`, Debian's Prometheus with the production configuration (10 s scrapes and evaluations, the
 * production rules with their `for: 30s`) and Debian's Alertmanager with the production routes (critical:
 * 5 s group wait). p50 over several outages.
 *
 * The baseline, in the same runs: the same path with a bare rule (`min(ib_connection_up) == 0`, no `for`),
 * i.e. the floor that scraping, evaluation and Alertmanager's group wait put under any alert. The ratio
 * says what the production rule's confirmation time adds.
 *
 * Reset windows are emptied (RESET_WINDOWS_JSON) so the figure is the one "outside a reset window" at any
 * hour; inside one the rule is silent by design.
 */
import {
  type LocalAlertmanager,
  type LocalPrometheus,
  type LocalStack,
  simFault,
  startAlertmanager,
  startLocalStack,
  startPrometheus,
} from '@ibstack/monitoring';
import { type FakeTelegram, startFakeTelegram, type TelegramMessage } from '@ibstack/test-kit';

import type { Figure, Suite } from '../lib/report';
import { percentile } from '../lib/stats';

const BOT_TOKEN = '424242:bench-token';
const CHAT_ID = 4242;
const PRODUCTION_ALERT = 'IBGatewayDown';
const BARE_ALERT = 'BenchGatewayDownBare';
/** No alert within this long after the fault fails the run (the plan accepts 5 min). */
const ALERT_DEADLINE_MS = 5 * 60_000;

const BARE_RULE = `groups:
  - name: bench-baseline
    rules:
      - alert: ${BARE_ALERT}
        expr: min by (job) (ib_connection_up) == 0
        labels:
          severity: critical
        annotations:
          summary: '{{ $labels.job }} has no session (bare rule, benchmark baseline)'
          description: The same signal as IBGatewayDown with no confirmation time.
          runbook_url: infra/runbooks/alerts.md#ibgatewaydown
`;

const isMessage = (state: 'FIRING' | 'RESOLVED', name: string, since: number) => (message: TelegramMessage) =>
  message.at >= since && message.text.includes(`<b>${state}</b>`) && message.text.includes(`<b>${name}</b>`);

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench alerts: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const alertsSuite: Suite = {
  name: 'alerts',
  description:
    'gateway dropped at the sim → Prometheus → Alertmanager → Telegram message, production rules and intervals, vs a bare rule',
  async run({ scale, log }) {
    const runs = Math.max(3, Math.round(5 * scale));
    let telegram: FakeTelegram | undefined;
    let stack: LocalStack | undefined;
    let alertmanager: LocalAlertmanager | undefined;
    let prometheus: LocalPrometheus | undefined;
    try {
      telegram = await startFakeTelegram({ token: BOT_TOKEN });
      stack = await startLocalStack({
        speed: 10,
        env: { RESET_WINDOWS_JSON: JSON.stringify({ north_america: [], europe: [], asia: [] }) },
      });
      alertmanager = await startAlertmanager({
        telegramApiUrl: telegram.url,
        botToken: BOT_TOKEN,
        chatId: CHAT_ID,
      });
      prometheus = await startPrometheus({
        targets: stack.targets,
        alertmanager: alertmanager.address,
        extraRules: BARE_RULE,
      });
      const sessionsUp = async () => {
        const sessions = await prometheus!.query('ib_connection_up');
        return sessions.length >= 2 && sessions.every((sample) => sample.value === 1) ? true : undefined;
      };
      log('waiting for every target to be scraped with its gateway session up');
      await until('sessions up', 120_000, sessionsUp);

      const production: number[] = [];
      const bare: number[] = [];
      for (let run = 1; run <= runs; run++) {
        const messages = telegram.messages;
        const start = Date.now();
        await simFault(stack.simUrl, 'refuse-connections', { ms: ALERT_DEADLINE_MS + 60_000 });
        await simFault(stack.simUrl, 'drop-connections');
        const [down, floor] = await Promise.all(
          [PRODUCTION_ALERT, BARE_ALERT].map((name) =>
            until(`${name} at Telegram`, ALERT_DEADLINE_MS, () =>
              messages.find(isMessage('FIRING', name, start)),
            ),
          ),
        );
        production.push(down!.at - start);
        bare.push(floor!.at - start);
        log(
          `run ${run}/${runs}: ${PRODUCTION_ALERT} after ${down!.at - start} ms, bare rule after ${floor!.at - start} ms`,
        );

        // The outage ends; both alerts resolve and Alertmanager sends that, so the next outage starts
        // with no alert group open (a new group waits group_wait, an open one group_interval).
        const end = Date.now();
        await simFault(stack.simUrl, 'accept-connections');
        await until('sessions back', 120_000, sessionsUp);
        await Promise.all(
          [PRODUCTION_ALERT, BARE_ALERT].map((name) =>
            until(`${name} resolved`, 5 * 60_000, () => messages.find(isMessage('RESOLVED', name, end))),
          ),
        );
        await until('Alertmanager without the two alerts', 5 * 60_000, async () =>
          (await alertmanager!.alerts()).some((alert) =>
            [PRODUCTION_ALERT, BARE_ALERT].includes(alert.labels.alertname ?? ''),
          )
            ? undefined
            : true,
        );
      }
      log(
        `${PRODUCTION_ALERT}: ${production.join(', ')} ms; bare rule: ${bare.join(', ')} ms (${runs} outages)`,
      );
      const figures: Figure[] = [
        {
          name: `alert latency p50 (${PRODUCTION_ALERT}, ${runs} outages)`,
          value: percentile(production, 50) / 1000,
          unit: 's',
          baselineName: 'bare rule, no for',
          baseline: percentile(bare, 50) / 1000,
          better: 'lower',
        },
        {
          name: `alert latency max (${PRODUCTION_ALERT}, ${runs} outages)`,
          value: Math.max(...production) / 1000,
          unit: 's',
          baselineName: 'bare rule, no for',
          baseline: Math.max(...bare) / 1000,
          better: 'lower',
        },
      ];
      return figures;
    } finally {
      await prometheus?.stop();
      await alertmanager?.stop();
      await stack?.stop();
      await telegram?.close();
    }
  },
};
