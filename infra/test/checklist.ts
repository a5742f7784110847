/**
 * Reads infra/SECURITY.md and checks every pointer in it against the repository, so the checklist cannot
 * drift from what the code does. A pointer is a list line under a `## N. Item` heading:
 *
 *   - test: `path` › "title"      a test of that title exists in the file (an it/test/describe title in
 *                                  TypeScript, a `name:` of a promtool rule test in YAML)
 *   - config: `path` › `text`     the file contains the text
 *   - config: `path`              the file exists
 *
 * Any other backquoted repository path in the document (`infra/host/provision.sh`, `secrets/`) must exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pointer {
  kind: 'test' | 'config';
  path: string;
  /** The test title, or the text the configuration file contains. */
  target?: string;
  line: number;
}

export interface ChecklistItem {
  heading: string;
  pointers: Pointer[];
}

const HEADING = /^## \d+\. (.+)$/;
const TEST_POINTER = /^- test: `([^`]+)` › "(.+)"$/;
const CONFIG_POINTER = /^- config: `([^`]+)`(?: › `(.+)`)?$/;
const REPOSITORY_PATH = /^(?:[\w.-]+\/)+[\w.-]*$/;

export function parseChecklist(markdown: string): { items: ChecklistItem[]; problems: string[] } {
  const items: ChecklistItem[] = [];
  const problems: string[] = [];
  markdown.split('\n').forEach((text, index) => {
    const line = index + 1;
    const heading = HEADING.exec(text);
    if (heading) {
      items.push({ heading: heading[1]!, pointers: [] });
      return;
    }
    if (!/^- (test|config):/.test(text)) return;
    const test = TEST_POINTER.exec(text);
    const config = CONFIG_POINTER.exec(text);
    const pointer: Pointer | undefined = test
      ? { kind: 'test', path: test[1]!, target: test[2]!, line }
      : config
        ? { kind: 'config', path: config[1]!, ...(config[2] ? { target: config[2] } : {}), line }
        : undefined;
    if (!pointer)
      problems.push(
        `line ${line}: not a pointer (- test: \`path\` › "title" or - config: \`path\` › \`text\`)`,
      );
    else if (items.length === 0)
      problems.push(`line ${line}: a pointer before the first "## N. item" heading`);
    else items.at(-1)!.pointers.push(pointer);
  });
  return { items, problems };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `source` (a test file) declares a test or group with exactly this title. */
export function declaresTest(path: string, source: string, title: string): boolean {
  if (/\.ya?ml$/.test(path))
    return new RegExp(`^\\s*-?\\s*name: ['"]?${escape(title)}['"]?\\s*$`, 'm').test(source);
  return new RegExp(`\\b(?:it|test|describe)\\(\\s*(['"\`])${escape(title)}\\1`).test(source);
}

/** Every problem with the checklist in `markdown`, read against the repository at `root`; none is good. */
export function checkChecklist(root: string, markdown: string): string[] {
  const { items, problems } = parseChecklist(markdown);
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  for (const item of items) {
    if (!item.pointers.some((pointer) => pointer.kind === 'test'))
      problems.push(`"${item.heading}": no test enforces it`);
    for (const pointer of item.pointers) {
      const where = `line ${pointer.line} (${item.heading})`;
      if (!existsSync(join(root, pointer.path))) {
        problems.push(`${where}: ${pointer.path} does not exist`);
        continue;
      }
      if (pointer.kind === 'test' && !declaresTest(pointer.path, read(pointer.path), pointer.target!))
        problems.push(`${where}: ${pointer.path} has no test "${pointer.target}"`);
      if (pointer.kind === 'config' && pointer.target && !read(pointer.path).includes(pointer.target))
        problems.push(`${where}: ${pointer.path} no longer contains \`${pointer.target}\``);
    }
  }
  for (const [, token] of markdown.matchAll(/`([^`\s]+)`/g))
    if (REPOSITORY_PATH.test(token!) && !existsSync(join(root, token!)))
      problems.push(`${token} is named but does not exist`);
  return problems;
}
