/**
 * Persistence of the simulated broker (orders, executions, account, id counters) across restarts. Written
 * atomically: a temporary file next to the target, fsync, then rename, so a crash leaves the old or the new
 * state, never half of one.
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
