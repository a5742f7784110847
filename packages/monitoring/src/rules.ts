import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';
import { z } from 'zod';

import { paths } from './paths';

const AlertingRule = z.object({
  alert: z.string(),
  expr: z.string(),
  for: z.string().optional(),
  keep_firing_for: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
});
const RecordingRule = z.object({
  record: z.string(),
  expr: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
});
const RuleFile = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      interval: z.string().optional(),
      rules: z.array(z.union([AlertingRule, RecordingRule])),
    }),
  ),
});
export type AlertingRule = z.infer<typeof AlertingRule>;
export type RecordingRule = z.infer<typeof RecordingRule>;

export interface LoadedRule {
  file: string;
  group: string;
  rule: AlertingRule | RecordingRule;
}

export function ruleFiles(dir: string = paths.rulesDir): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yml'))
    .sort()
    .map((name) => join(dir, name));
}

/** Every rule of every file under prometheus/rules, with the file and group it belongs to. */
export function loadRules(dir: string = paths.rulesDir): LoadedRule[] {
  return ruleFiles(dir).flatMap((file) =>
    RuleFile.parse(parse(readFileSync(file, 'utf8'))).groups.flatMap((group) =>
      group.rules.map((rule) => ({ file, group: group.name, rule })),
    ),
  );
}

export function alertingRules(dir?: string): Array<LoadedRule & { rule: AlertingRule }> {
  return loadRules(dir).filter(
    (loaded): loaded is LoadedRule & { rule: AlertingRule } => 'alert' in loaded.rule,
  );
}
