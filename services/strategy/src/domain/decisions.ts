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
  const parsed = Decisions.safeParse(output);
  if (!parsed.success)
    throw new Error(
      `returned an invalid decision: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  for (const decision of parsed.data) {
    if (!instruments.some((instrument) => instrument.key === decision.instrument))
      throw new Error(`decided on ${decision.instrument}, which is not an instrument of the sleeve`);
  }
  return parsed.data;
}
