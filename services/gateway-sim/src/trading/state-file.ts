/**
 * Persistence of the simulated broker (orders, executions, account, id counters) across restarts. Written
 * atomically: a temporary file next to the target, fsync, then rename, so a crash leaves the old or the new
 * state, never half of one. `StateWriter` coalesces changes: at most one write per interval, so a crash
 * loses at most the changes of that interval.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

import { StateFileError } from '../errors';
import type { BrokerState } from './broker';

export function loadState(path: string): BrokerState | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new StateFileError(`state file is not valid JSON: ${(error as Error).message}`, path, {
      cause: error,
    });
  }
  const state = parsed as Partial<BrokerState>;
  if (
    state.version !== 1 ||
    !Array.isArray(state.orders) ||
    !Array.isArray(state.executions) ||
    typeof state.nextOrderId !== 'number' ||
    typeof state.ledger !== 'object'
  ) {
    throw new StateFileError('state file has an unknown layout (expected version 1)', path);
  }
  return state as BrokerState;
}

export interface WriterTimers {
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout): void;
}

/** Writes the state at most once per `intervalMs` after changes, and at once on `flush()`. */
export class StateWriter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: () => void,
    /** @default 200 */
    private readonly intervalMs = 200,
    private readonly timers: WriterTimers = { setTimeout, clearTimeout },
  ) {}

  /** Something changed: it is written within `intervalMs`. */
  changed(): void {
    if (this.timer) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** Writes now (on close, after a fault that must be on disk). */
  flush(): void {
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.write();
  }

  /** Drops a pending write without writing (after the final flush). */
  close(): void {
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export function saveState(path: string, state: BrokerState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  const descriptor = openSync(temporary, 'w');
  try {
    writeSync(descriptor, JSON.stringify(state));
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, path);
}
