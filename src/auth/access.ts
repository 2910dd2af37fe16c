import type { Identity } from './identity';

/** Who reads tenant data, as entity access sees them (see cypher/fragments/readable.cypher). */
export type Viewer = Pick<Identity, 'userId' | 'groups' | 'superuser'>;

/** Joins the principals of one guard: a character no user id or group name carries. */
export const GUARD_SEPARATOR = '\u001f';

/** The parameters every tenant-data read passes to the readable fragment. */
export function accessParams(viewer: Viewer): {
  superuser: boolean;
  principals: string[];
  sep: string;
} {
  return {
    superuser: viewer.superuser,
    principals: [`user:${viewer.userId}`, ...viewer.groups.map((g) => `group:${g}`)].filter(
      (p) => !p.includes(GUARD_SEPARATOR),
    ),
    sep: GUARD_SEPARATOR,
  };
}
