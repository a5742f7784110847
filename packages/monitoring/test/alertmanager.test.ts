/**
 * alertmanager/alertmanager.yml as Debian's amtool 0.25 reads it (a copy with the token inline, the
 * only change the version forces), its routes, its inhibitions against the Prometheus rules, the
 * Telegram message rendered by amtool, and the entrypoint that fills in the chat id.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { telegramHtmlProblem } from '@ibstack/test-kit';
import { parse } from 'yaml';

import {
  alertingRules,
  alertmanagerConfigFor025,
  durationSeconds,
  paths,
  readAlertmanagerConfig,
  REPO_ROOT,
  runTool,
} from '../src';

interface Route {
  receiver?: string;
  group_by?: string[];
  matchers?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}

describe('alertmanager', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-am-'));
  const copy = join(dir, 'alertmanager.yml');
  beforeAll(() => {
    writeFileSync(copy, alertmanagerConfigFor025({ botToken: '123456:test-token', chatId: -1001234 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes amtool check-config (0.25), templates included', async () => {
    const result = await runTool('amtool', ['check-config', copy]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.output).toMatch(/- 1 templates/);
    expect(result.code).toBe(0);
  });

  it('differs from the production file only where 0.25 forces it: the token inline, templates from the repository', () => {
    const production = readAlertmanagerConfig() as unknown as Record<string, unknown>;
    const tested = parse(readFileSync(copy, 'utf8')) as Record<string, unknown>;
    const telegram = (config: Record<string, unknown>) =>
      (config.receivers as Array<{ telegram_configs?: Array<Record<string, unknown>> }>)[0]!
        .telegram_configs![0]!;
    expect(telegram(production)).toMatchObject({
      bot_token_file: '/run/secrets/alertmanager_telegram_bot_token',
      chat_id: '__TELEGRAM_CHAT_ID__',
    });
    expect(telegram(tested)).toMatchObject({ bot_token: '123456:test-token', chat_id: -1001234 });
    const { bot_token_file: _file, chat_id: _chat, ...productionRest } = telegram(production);
    const { bot_token: _token, chat_id: _id, ...testedRest } = telegram(tested);
    expect(testedRest).toEqual(productionRest);
    const withoutReceiversAndTemplates = ({
      receivers: _r,
      templates: _t,
      ...rest
    }: Record<string, unknown>) => rest;
    expect(withoutReceiversAndTemplates(tested)).toEqual(withoutReceiversAndTemplates(production));
  });

  it.each([
    [{ alertname: 'IBGatewayDown', severity: 'critical' }, 'telegram'],
    [{ alertname: 'DrawdownWarning', severity: 'warning' }, 'telegram'],
    [{ alertname: 'Watchdog', severity: 'none' }, 'watchdog'],
    [{ alertname: 'SomethingNew' }, 'telegram'],
  ])('routes %o to %s', async (labels, receiver) => {
    const result = await runTool('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${copy}`,
      `--verify.receivers=${receiver}`,
      ...Object.entries(labels).map(([name, value]) => `${name}=${value}`),
    ]);
    expect(result.stdout.trim()).toBe(receiver);
    expect(result.code).toBe(0);
  });

  it('repeats critical alerts every 30 min and warnings every 4 h, and sends critical ones within seconds', () => {
    const route = readAlertmanagerConfig().route as Route;
    const child = (matcher: string) => route.routes!.find((r) => r.matchers?.includes(matcher))!;
    const critical = child('severity="critical"');
    const warning = child('severity="warning"');
    expect(durationSeconds(critical.repeat_interval!)).toBe(30 * 60);
    expect(durationSeconds(warning.repeat_interval!)).toBe(4 * 3600);
    expect(durationSeconds(critical.group_wait!)).toBeLessThanOrEqual(10);
    expect(route.group_by).toEqual(['alertname']);
  });

  it('inhibits what the issue names, only between alerts that exist, and only where the target waits longer', () => {
    const rules = new Map(alertingRules().map(({ rule }) => [rule.alert, rule]));
    const config = readAlertmanagerConfig() as unknown as {
      inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[] }>;
    };
    const names = (matchers: string[]) =>
      matchers.flatMap((matcher) => {
        const match = /^alertname(=~?)"(.*)"$/.exec(matcher);
        if (!match) throw new Error(`inhibition matcher ${matcher} is not on alertname`);
        return match[1] === '=' ? [match[2]!] : match[2]!.split('|');
      });
    const pairs = config.inhibit_rules.flatMap((rule) =>
      names(rule.source_matchers).flatMap((source) =>
        names(rule.target_matchers).map((target) => ({ source, target })),
      ),
    );
    expect(pairs).toEqual(
      expect.arrayContaining([
        { source: 'IBGatewayDown', target: 'MarketDataStale' },
        { source: 'IBGatewayDown', target: 'NoOrdersIn24h' },
        { source: 'TradingHalted', target: 'NoOrdersIn24h' },
      ]),
    );
    const problems: string[] = [];
    // Inhibition is not retroactive: a target that fires before its source has already been sent.
    // NoOrdersIn24h needs a whole day without orders, which no source outlasts; a drawdown warning is
    // rightly sent before the critical one, which only silences its repeats.
    const scrapeAndEvaluation = 20;
    const exempt = new Set(['NoOrdersIn24h', 'DrawdownWarning']);
    for (const { source, target } of pairs) {
      const sourceRule = rules.get(source);
      const targetRule = rules.get(target);
      if (!sourceRule || !targetRule) {
        problems.push(`${source} → ${target}: no such alert`);
        continue;
      }
      const sourceFor = durationSeconds(sourceRule.for ?? '0s');
      const targetFor = durationSeconds(targetRule.for ?? '0s');
      if (!exempt.has(target) && targetFor < sourceFor + scrapeAndEvaluation)
        problems.push(`${source} (for ${sourceFor}s) → ${target} (for ${targetFor}s)`);
    }
    expect(problems).toEqual([]);
  });

  describe('the Telegram message', () => {
    const render = async (alerts: Array<Record<string, unknown>>) => {
      const data = join(dir, `data-${Math.random()}.json`);
      writeFileSync(
        data,
        JSON.stringify({
          receiver: 'telegram',
          status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
          alerts: alerts.map((alert, index) => ({
            startsAt: '2026-12-01T10:00:00Z',
            endsAt: alert.status === 'resolved' ? '2026-12-01T10:05:00Z' : '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: String(index),
            ...alert,
          })),
          groupLabels: {},
          commonLabels: {},
          commonAnnotations: {},
          externalURL: 'http://alertmanager:9093',
        }),
      );
      const result = await runTool('amtool', [
        'template',
        'render',
        `--template.glob=${paths.alertmanagerTemplatesDir}/*.tmpl`,
        '--template.text={{ template "telegram.ibstack.message" . }}',
        `--template.data=${data}`,
      ]);
      expect(result.stderr).toBe('');
      return result.stdout.trim();
    };
    const alert = (status: string, name: string, summary: string, description = 'details') => ({
      status,
      labels: { alertname: name, severity: 'critical' },
      annotations: { summary, description, runbook_url: `infra/runbooks/alerts.md#${name.toLowerCase()}` },
    });

    it('shows status, alert, severity, summary, description and runbook, escaped for Telegram HTML', async () => {
      const text = await render([
        alert(
          'firing',
          'TradingHalted',
          'Trading is halted: drawdown < 10% & falling',
          'halted by <operator>',
        ),
      ]);
      expect(text).toBe(
        [
          '🔴 <b>FIRING</b>',
          '',
          '<b>TradingHalted</b> · critical',
          'Trading is halted: drawdown &lt; 10% &amp; falling',
          '<i>halted by &lt;operator&gt;</i>',
          'Runbook: infra/runbooks/alerts.md#tradinghalted',
        ].join('\n'),
      );
      expect(telegramHtmlProblem(text)).toBeUndefined();
    });

    it('lists firing and resolved alerts of a group apart, resolved ones without their description', async () => {
      const text = await render([
        alert('firing', 'MarketDataStale', 'No market data for EURCAD'),
        alert('firing', 'MarketDataStale', 'No market data for GBPUSD'),
        alert('resolved', 'MarketDataStale', 'No market data for AUDUSD'),
      ]);
      expect(text).toMatch(/^🔴 <b>FIRING<\/b> \(2\)\n/);
      expect(text).toMatch(
        /\n✅ <b>RESOLVED<\/b>\n\n<b>MarketDataStale<\/b> · critical\nNo market data for AUDUSD$/,
      );
      expect(text.indexOf('EURCAD')).toBeLessThan(text.indexOf('RESOLVED'));
      expect(telegramHtmlProblem(text)).toBeUndefined();
    });

    it('stays under Telegram’s 4096 characters with many alerts', async () => {
      const many = Array.from({ length: 40 }, (_, index) =>
        alert('firing', 'MarketDataStale', `No market data for INSTRUMENT${index}`, 'x'.repeat(300)),
      );
      const text = await render(many);
      expect(text.length).toBeLessThan(4096);
      expect(text).toContain('(the first 8 of 40 shown)');
      expect(telegramHtmlProblem(text)).toBeUndefined();
    });
  });

  describe('entrypoint.sh', () => {
    const entrypoint = join(REPO_ROOT, 'alertmanager', 'entrypoint.sh');
    const run = (chatId: string | undefined) => {
      const out = join(dir, `rendered-${Math.random()}.yml`);
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        ALERTMANAGER_CONFIG: paths.alertmanagerConfig,
        ALERTMANAGER_RENDERED_CONFIG: out,
        // Stands in for Alertmanager: prints what it would have been started with.
        ALERTMANAGER_BIN: 'echo',
      };
      if (chatId !== undefined) env.TELEGRAM_CHAT_ID = chatId;
      const result = spawnSync('sh', [entrypoint, '--storage.path=/alertmanager'], { env, encoding: 'utf8' });
      return { ...result, out };
    };

    it('writes the chat id into a copy of the configuration and starts Alertmanager on it with every argument', () => {
      const result = run('-1001234567');
      expect(result.status).toBe(0);
      expect(result.stdout.trim()).toBe(`--config.file=${result.out} --storage.path=/alertmanager`);
      const rendered = parse(readFileSync(result.out, 'utf8')) as {
        receivers: Array<{ telegram_configs?: Array<{ chat_id: unknown }> }>;
      };
      expect(rendered.receivers[0]!.telegram_configs![0]!.chat_id).toBe(-1001234567);
    });

    it.each([[undefined], [''], ['@mychannel'], ['12 34']])(
      'refuses chat id %p with exit 78 and says why',
      (chatId) => {
        const result = run(chatId);
        expect(result.status).toBe(78);
        expect(result.stderr).toMatch(/TELEGRAM_CHAT_ID must be the numeric id/);
        expect(result.stdout).toBe('');
      },
    );
  });
});
