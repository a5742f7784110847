import type { InstrumentKey } from '@ibstack/contracts';

import { Decision, type ParsedDecision } from '../sdk';

/** Built once: a zod schema is costly to build, and this one is used for every sleeve on every bar. */
const Decisions = Decision.array();

/**
 * Reads what a strategy returned as the decisions of its sleeve. Throws when it is not a list of decisions
 * (nothing counts as an empty list) or names an instrument the sleeve does not trade; the caller pauses the
 * sleeve.
 */
export function parseDecisions(
  output: unknown,
  instruments: ReadonlyArray<{ key: InstrumentKey }>,
): ParsedDecision[] {
  // Most bars decide nothing: an empty list (or nothing) needs no schema.
  if (output === undefined || output === null || (Array.isArray(output) && output.length === 0)) return [];
  let decisions = plainTargets(output);
  if (decisions === undefined) {
    const parsed = Decisions.safeParse(output);
    if (!parsed.success)
      throw new Error(
        `returned an invalid decision: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    decisions = parsed.data;
  }
  for (const decision of decisions) {
    if (!instruments.some((instrument) => instrument.key === decision.instrument))
      throw new Error(`decided on ${decision.instrument}, which is not an instrument of the sleeve`);
  }
  return decisions;
}

const TARGET_KEYS: ReadonlySet<string> = new Set(['type', 'instrument', 'weight', 'reason']);
const INSTRUMENT_KEY = /^[A-Z0-9_]+$/;

/**
 * The schema's output for a list of plain target decisions with a numeric weight (what most strategies
 * return), checked by hand: the same checks as `TargetDecision` and the same output object. Undefined for
 * anything else, which the schema then reads (and words the error for).
 */
function plainTargets(output: unknown): ParsedDecision[] | undefined {
  if (!Array.isArray(output)) return undefined;
  const decisions: ParsedDecision[] = [];
  for (const item of output as unknown[]) {
    if (typeof item !== 'object' || item === null || Object.getPrototypeOf(item) !== Object.prototype)
      return undefined;
    const fields = item as Record<string, unknown>;
    for (const key in fields) if (!TARGET_KEYS.has(key)) return undefined;
    const { type, instrument, weight, reason } = fields;
    if (type !== 'target' || typeof instrument !== 'string' || !INSTRUMENT_KEY.test(instrument))
      return undefined;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || Math.abs(weight) > 1) return undefined;
    if ('reason' in fields && (typeof reason !== 'string' || reason.length > 200)) return undefined;
    decisions.push(
      typeof reason === 'string'
        ? { type: 'target', instrument, weight, reason }
        : { type: 'target', instrument, weight },
    );
  }
  return decisions;
}
