/**
 * IB execution ids look like `0000e0d5.6745a1b2.01.01`. A correction of an execution keeps everything
 * up to the last dot and increments the last part (`….01.02` replaces `….01.01`).
 */
export interface ParsedExecId {
  base: string;
  revision: number;
}

export function parseExecId(execId: string): ParsedExecId {
  const cut = execId.lastIndexOf('.');
  if (cut <= 0) return { base: execId, revision: 0 };
  const revision = Number.parseInt(execId.slice(cut + 1), 16);
  return Number.isFinite(revision) ? { base: execId.slice(0, cut), revision } : { base: execId, revision: 0 };
}

/** Whether `candidate` is a correction that replaces `original`. */
export function isCorrectionOf(candidate: string, original: string): boolean {
  const a = parseExecId(candidate);
  const b = parseExecId(original);
  return a.base === b.base && a.revision > b.revision;
}
