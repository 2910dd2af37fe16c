import { createHash } from 'node:crypto';

/** A stable pseudo-random fraction in [0, 1) of a string: folds and samples without Math.random. */
export function fraction(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) / 2 ** 32;
}
