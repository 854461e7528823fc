/**
 * Paths printed for the user to paste into their next command.
 */
import * as path from 'node:path';

/**
 * `p` relative to `cwd` when it lies inside it (what a user who typed a relative path expects back), else absolute:
 * never a `../../tmp/…` path that climbs out of the working folder. Quoted when it holds spaces or shell characters.
 */
export function pastablePath(p: string, cwd: string = process.cwd()): string {
	const abs = path.resolve(cwd, p);
	const rel = path.relative(cwd, abs);
	const shown = rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
	return /^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}
