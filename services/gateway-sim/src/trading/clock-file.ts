/**
 * The sim clock's position, kept beside the state file so a restarted sim continues its market time
 * instead of jumping back to the wall clock. With a speed factor above 1 the sim runs ahead of the wall
 * clock; restarting from "now" would make time go backwards for every client that stored bars.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export function clockFileOf(stateFile: string): string {
  return `${stateFile}.clock`;
}

export function loadClock(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const value = Number(readFileSync(path, 'utf8').trim());
  return Number.isFinite(value) ? value : undefined;
}

export function saveClock(path: string, simTime: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, String(Math.round(simTime)));
  renameSync(temporary, path);
}
