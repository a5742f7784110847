/**
 * The alert rules as Prometheus 2.42 (Debian's) reads them: the config and every rule file pass
 * promtool's checks, every unit test in prometheus/tests passes, and every alert has a severity, a
 * runbook section, and tests that see it fire and stay silent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import { parse } from 'yaml';

import { alertingRules, paths, ruleFiles, runTool } from '../src';

interface RuleTestFile {
  rule_files: string[];
  tests: Array<{
    name: string;
    alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }>;
  }>;
}

const testFiles = readdirSync(paths.ruleTestsDir)
  .filter((name) => name.endsWith('.test.yml'))
  .sort()
  .map((name) => join(paths.ruleTestsDir, name));
const loadTest = (file: string) => parse(readFileSync(file, 'utf8')) as RuleTestFile;

describe('prometheus rules', () => {
  it('has a valid prometheus.yml whose rule files all load', async () => {
    const result = await runTool('promtool', ['check', 'config', paths.prometheusConfig]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
  });

  it.each(ruleFiles().map((file) => [basename(file), file]))(
    '%s passes promtool check rules with lints fatal',
    async (_name, file) => {
      const result = await runTool('promtool', ['check', 'rules', '--lint-fatal', file]);
      expect({ code: result.code, output: result.output }).toEqual({
        code: 0,
        output: expect.stringMatching(/SUCCESS/) as unknown,
      });
    },
  );

  it.each(testFiles.map((file) => [basename(file), file]))(
    'unit tests %s pass under promtool test rules',
    async (_name, file) => {
      const result = await runTool('promtool', ['test', 'rules', file]);
      expect({ code: result.code, output: result.output }).toEqual({
        code: 0,
        output: expect.stringMatching(/SUCCESS/) as unknown,
      });
    },
    60_000,
  );

  it('gives every alert a severity, a summary, a description and a runbook section', () => {
    const runbook = readFileSync(paths.runbook, 'utf8');
    const headings = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((match) => match[1]));
    const problems: string[] = [];
    for (const { rule } of alertingRules()) {
      if (!['critical', 'warning', 'none'].includes(rule.labels.severity ?? ''))
        problems.push(`${rule.alert}: severity ${rule.labels.severity}`);
      for (const key of ['summary', 'description', 'runbook_url'])
        if (!rule.annotations[key]) problems.push(`${rule.alert}: no ${key}`);
      if (rule.annotations.runbook_url !== `infra/runbooks/alerts.md#${rule.alert.toLowerCase()}`)
        problems.push(`${rule.alert}: runbook_url ${rule.annotations.runbook_url}`);
      if (!headings.has(rule.alert)) problems.push(`${rule.alert}: no "## ${rule.alert}" in the runbook`);
    }
    expect(problems).toEqual([]);
  });

  it('has a runbook section only for alerts that exist', () => {
    const alerts = new Set(alertingRules().map(({ rule }) => rule.alert));
    const headings = [...readFileSync(paths.runbook, 'utf8').matchAll(/^## (\S+)$/gm)].map(
      (match) => match[1],
    );
    expect(headings.filter((heading) => !alerts.has(heading!))).toEqual([]);
  });

  it('tests every alert both firing and staying silent, and every rule file', () => {
    const firing = new Set<string>();
    const silent = new Set<string>();
    const testedFiles = new Set<string>();
    for (const file of testFiles) {
      const test = loadTest(file);
      for (const ruleFile of test.rule_files) testedFiles.add(resolve(paths.ruleTestsDir, ruleFile));
      for (const group of test.tests)
        for (const check of group.alert_rule_test ?? [])
          (check.exp_alerts.length > 0 ? firing : silent).add(check.alertname);
    }
    const alerts = alertingRules().map(({ rule }) => rule.alert);
    expect({
      neverSeenFiring: alerts.filter((alert) => !firing.has(alert) && alert),
      neverSeenSilent: alerts.filter((alert) => !silent.has(alert) && alert !== 'Watchdog'),
      untestedFiles: ruleFiles().filter((file) => !testedFiles.has(file)),
    }).toEqual({ neverSeenFiring: [], neverSeenSilent: [], untestedFiles: [] });
  });

  it('names every alert once', () => {
    const alerts = alertingRules().map(({ rule }) => rule.alert);
    expect(alerts.filter((alert, index) => alerts.indexOf(alert) !== index)).toEqual([]);
  });
});
