/**
 * Reading files that other processes (or an untrusted workspace) control, without hanging, without unbounded
 * memory and without leaking anything about files outside the folder a path must stay in.
 *
 * - Only regular files are read: the file is opened non-blocking and `fstat`ed before any byte is read, so a FIFO,
 *   a device (`/dev/zero`), a socket or a symlink to one is refused instead of blocking or filling memory.
 * - A size cap is checked on the open file before reading.
 * - fs errors become {@link FileFault}s: the operation, the file and the OS reason in words (EACCES is "not readable",
 *   not "missing"), never a stack trace.
 * - {@link resolveInside} follows symlinks and refuses a path that ends outside its root with the same message
 *   whether or not it exists, so a message never tells anything about a file outside.
 *
 * Pure module (no `vscode`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What went wrong with a file, in words a user can act on. */
export type FileFaultKind =
	| 'missing'
	| 'not-readable'
	| 'not-writable'
	| 'is-directory'
	| 'not-a-directory'
	| 'not-regular'
	| 'symlink-loop'
	| 'outside'
	| 'too-large'
	| 'no-space'
	| 'io';

/** A file problem: `<file>: cannot <operation>: <reason>`. */
export class FileFault extends Error {
	constructor(
		readonly kind: FileFaultKind,
		readonly file: string,
		readonly operation: string,
		readonly reason: string,
	) {
		super(`${escapeControl(file)}: cannot ${operation}: ${reason}`);
		this.name = 'FileFault';
	}
}

const REASONS: Record<string, [FileFaultKind, string]> = {
	ENOENT: ['missing', 'no such file or folder'],
	EACCES: ['not-readable', 'not readable (permission denied)'],
	EPERM: ['not-readable', 'operation not permitted'],
	EISDIR: ['is-directory', 'is a folder, not a file'],
	ENOTDIR: ['not-a-directory', 'a part of the path is not a folder'],
	ELOOP: ['symlink-loop', 'too many levels of symbolic links (a symlink loop)'],
	ENOSPC: ['no-space', 'no space left on the device'],
	EDQUOT: ['no-space', 'disk quota exceeded'],
	EROFS: ['not-writable', 'read-only file system'],
	EMFILE: ['io', 'too many open files'],
	ENAMETOOLONG: ['io', 'file name too long'],
	EIO: ['io', 'input/output error'],
};

/**
 * Turns an fs error into a {@link FileFault} (already-faults pass through).
 * @param operation what was being done, e.g. "read", "append to", "list"
 */
export function fileFault(err: unknown, operation: string, file: string): FileFault {
	if (err instanceof FileFault) {
		return err;
	}
	const code = (err as NodeJS.ErrnoException | undefined)?.code;
	const known = code === undefined ? undefined : REASONS[code];
	if (known !== undefined) {
		let [kind, reason] = known;
		if (code === 'EACCES' && operation !== 'read' && operation !== 'open' && operation !== 'list') {
			kind = 'not-writable';
			reason = 'not writable (permission denied)';
		}
		return new FileFault(kind, file, operation, `${reason} (${code})`);
	}
	const msg = err instanceof Error ? err.message : String(err);
	return new FileFault('io', file, operation, code === undefined ? msg : `${msg} (${code})`);
}

/** Characters that must not reach a message verbatim (C0, DEL, C1 controls, line/paragraph separators). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Escapes control characters (newlines, NUL, escape sequences …) so text from a file cannot break a message,
 * a table row or a terminal: `\n`, `\t`, `\r`, `\0`, else `\xHH` / `\uHHHH`.
 */
export function escapeControl(text: string): string {
	return text.replace(CONTROL, (c) => {
		switch (c) {
			case '\n':
				return '\\n';
			case '\r':
				return '\\r';
			case '\t':
				return '\\t';
			case '\u0000':
				return '\\0';
			default: {
				const code = c.charCodeAt(0);
				return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
			}
		}
	});
}

/** Open flags: read-only and non-blocking, so opening a FIFO returns at once (and is then refused). */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function kindOfStat(st: fs.Stats): string {
	if (st.isDirectory()) {
		return 'a folder';
	}
	if (st.isFIFO()) {
		return 'a FIFO (named pipe)';
	}
	if (st.isCharacterDevice()) {
		return 'a character device';
	}
	if (st.isBlockDevice()) {
		return 'a block device';
	}
	if (st.isSocket()) {
		return 'a socket';
	}
	return 'not a regular file';
}

function refuse(st: fs.Stats, file: string, operation: string): FileFault {
	return st.isDirectory()
		? new FileFault('is-directory', file, operation, 'is a folder, not a file')
		: new FileFault('not-regular', file, operation, `${kindOfStat(st)}, not a regular file (only regular files are read)`);
}

function tooLarge(file: string, operation: string, size: number, maxBytes: number): FileFault {
	return new FileFault('too-large', file, operation, `${size} bytes is more than the limit of ${maxBytes} bytes`);
}

/** Options of {@link readRegularFileSync} and {@link readRegularFile}. */
export interface ReadLimits {
	/** Refuse files larger than this many bytes (checked before reading). */
	readonly maxBytes?: number;
	/** The operation named in messages (default "read"). */
	readonly operation?: string;
}

/**
 * Reads a whole regular file; refuses FIFOs, devices, sockets and folders before reading a byte.
 * @throws FileFault naming the file, the operation and the reason
 */
export function readRegularFileSync(file: string, limits: ReadLimits = {}): Buffer {
	const op = limits.operation ?? 'read';
	let fd: number;
	try {
		fd = fs.openSync(file, OPEN_FLAGS);
	} catch (err) {
		throw fileFault(err, op, file);
	}
	try {
		const st = fs.fstatSync(fd);
		if (!st.isFile()) {
			throw refuse(st, file, op);
		}
		if (limits.maxBytes !== undefined && st.size > limits.maxBytes) {
			throw tooLarge(file, op, st.size, limits.maxBytes);
		}
		const buf = Buffer.allocUnsafe(st.size);
		let read = 0;
		while (read < buf.length) {
			const n = fs.readSync(fd, buf, read, buf.length - read, read);
			if (n === 0) {
				break;
			}
			read += n;
		}
		return read === buf.length ? buf : buf.subarray(0, read);
	} catch (err) {
		throw fileFault(err, op, file);
	} finally {
		fs.closeSync(fd);
	}
}

/** Async {@link readRegularFileSync}. */
export async function readRegularFile(file: string, limits: ReadLimits = {}): Promise<Buffer> {
	const op = limits.operation ?? 'read';
	let handle: fs.promises.FileHandle;
	try {
		handle = await fs.promises.open(file, OPEN_FLAGS);
	} catch (err) {
		throw fileFault(err, op, file);
	}
	try {
		const st = await handle.stat();
		if (!st.isFile()) {
			throw refuse(st, file, op);
		}
		if (limits.maxBytes !== undefined && st.size > limits.maxBytes) {
			throw tooLarge(file, op, st.size, limits.maxBytes);
		}
		const buf = Buffer.allocUnsafe(st.size);
		let read = 0;
		while (read < buf.length) {
			const r = await handle.read(buf, read, buf.length - read, read);
			if (r.bytesRead === 0) {
				break;
			}
			read += r.bytesRead;
		}
		return read === buf.length ? buf : buf.subarray(0, read);
	} catch (err) {
		throw fileFault(err, op, file);
	} finally {
		await handle.close();
	}
}

/** Whether `child` (absolute, normalised) is `root` or inside it. */
export function isInside(root: string, child: string): boolean {
	const rel = path.relative(root, child);
	return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/**
 * Resolves `rel` against `root` and follows symlinks; the result must lie inside `root` (itself resolved).
 * A path that is missing and a path that leads outside get the same message, naming only `rel` as given, so
 * the answer tells nothing about files outside `root`.
 * @param what what the path is, for the message ("weights file", "image path")
 * @throws FileFault of kind 'outside' (missing or outside) or another kind for a file inside that cannot be used
 */
export function resolveInsideSync(root: string, rel: string, what: string): string {
	const realRoot = fs.realpathSync(root);
	const lexical = path.resolve(realRoot, rel);
	const shown = path.isAbsolute(rel) ? rel : path.join(root, rel);
	const hidden = (): FileFault => new FileFault('outside', shown, 'use', `${what} must exist inside ${escapeControl(root)} (it is missing, or outside it)`);
	if (!isInside(realRoot, lexical)) {
		throw hidden();
	}
	let real: string;
	try {
		real = fs.realpathSync(lexical);
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code;
		if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') {
			throw hidden();
		}
		throw fileFault(err, 'read', shown);
	}
	if (!isInside(realRoot, real)) {
		throw hidden();
	}
	return real;
}
