import pc from 'picocolors';

const COLOURS = [pc.cyan, pc.magenta, pc.yellow, pc.green, pc.blue, pc.red] as const;
const LEVEL_COLOUR: Record<string, (text: string) => string> = {
  fatal: (text) => pc.bgRed(pc.white(text)),
  error: pc.red,
  warn: pc.yellow,
  info: pc.green,
  debug: pc.gray,
  trace: pc.gray,
};
const HIDDEN_FIELDS = new Set(['level', 'time', 'service', 'msg', 'pid', 'hostname']);

export function colourFor(index: number): (text: string) => string {
  return COLOURS[index % COLOURS.length]!;
}

/**
 * One child's output line as the runner prints it: `name │ LEVEL message key=value…`. Pino JSON is
 * unpacked; anything else (a stack trace, a tool's plain output) is printed as it came.
 */
export function formatLine(
  name: string,
  width: number,
  colour: (text: string) => string,
  line: string,
): string {
  const prefix = `${colour(name.padEnd(width))} │ `;
  if (!line.startsWith('{')) return prefix + line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return prefix + line;
  }
  const level = typeof record.level === 'string' ? record.level : 'info';
  const paint = LEVEL_COLOUR[level] ?? ((text: string) => text);
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN_FIELDS.has(key))
    .map(([key, value]) => `${pc.dim(key)}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${prefix}${paint(level.toUpperCase().padEnd(5))} ${typeof record.msg === 'string' ? record.msg : ''}${fields ? ` ${fields}` : ''}`;
}
