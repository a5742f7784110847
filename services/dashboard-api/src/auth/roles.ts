import { z } from 'zod';

/** `viewer` reads everything; `operator` also places, modifies and cancels orders, halts and resumes. */
export const Role = z.enum(['viewer', 'operator']);
export type Role = z.infer<typeof Role>;

export function roleAllows(role: Role, needed: Role): boolean {
  return needed === 'viewer' || role === 'operator';
}
