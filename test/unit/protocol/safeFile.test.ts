/**
 * Reading files other processes control: special files refused before a byte is read (no hang, no /dev/zero
 * filling memory), paths confined to their folder with one message for missing and outside, fs errors in words.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { escapeControl, fileFault, FileFault, readRegularFile, readRegularFileSync, resolveInsideSync } from '../../../src/protocol/safeFile';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-safefile-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function fifo(name: string): string {
	const p = path.join(tmp, name);
	execFileSync('mkfifo', [p]);
	return p;
}

describe('readRegularFile', () => {
	test('reads a regular file', async () => {
		const f = path.join(tmp, 'a.txt');
		fs.writeFileSync(f, 'hello');
		assert.equal(readRegularFileSync(f).toString(), 'hello');
		assert.equal((await readRegularFile(f)).toString(), 'hello');
	});

	test('a FIFO is refused at once, sync and async (it used to block forever)', async () => {
		const p = fifo('pipe.csv');
		assert.throws(() => readRegularFileSync(p), (e: unknown) => e instanceof FileFault && e.kind === 'not-regular' && /FIFO/.test(e.message) && e.message.includes(p));
		await assert.rejects(readRegularFile(p), (e: unknown) => e instanceof FileFault && e.kind === 'not-regular');
	});

	test('/dev/zero and a symlink to it are refused before reading', () => {
		assert.throws(() => readRegularFileSync('/dev/zero'), /character device, not a regular file/);
		const link = path.join(tmp, 'zero.png');
		fs.symlinkSync('/dev/zero', link);
		assert.throws(() => readRegularFileSync(link), (e: unknown) => e instanceof FileFault && e.kind === 'not-regular');
	});

	test('a folder, a missing file and a too-large file are named as such', () => {
		assert.throws(() => readRegularFileSync(tmp), (e: unknown) => e instanceof FileFault && e.kind === 'is-directory' && /is a folder/.test(e.message));
		assert.throws(() => readRegularFileSync(path.join(tmp, 'nope')), (e: unknown) => e instanceof FileFault && e.kind === 'missing' && /no such file/.test(e.message));
		const f = path.join(tmp, 'big.bin');
		fs.writeFileSync(f, Buffer.alloc(100));
		assert.throws(() => readRegularFileSync(f, { maxBytes: 10 }), /100 bytes is more than the limit of 10 bytes/);
	});

	test('a symlink loop is reported as a loop, not as missing', () => {
		const a = path.join(tmp, 'loop-a');
		const b = path.join(tmp, 'loop-b');
		fs.symlinkSync(b, a);
		fs.symlinkSync(a, b);
		assert.throws(() => readRegularFileSync(a), (e: unknown) => e instanceof FileFault && e.kind === 'symlink-loop' && /symlink loop/.test(e.message));
	});

	test('fs error codes become operation + file + reason; EACCES is "not readable", never "missing"', () => {
		const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
		const f = fileFault(eacces, 'read', '/x/analysis.jsonl');
		assert.equal(f.kind, 'not-readable');
		assert.equal(f.message, '/x/analysis.jsonl: cannot read: not readable (permission denied) (EACCES)');
		assert.equal(fileFault(eacces, 'append to', '/x/a').kind, 'not-writable');
		const enospc = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
		assert.equal(fileFault(enospc, 'append to', '/x/a').message, '/x/a: cannot append to: no space left on the device (ENOSPC)');
		const eisdir = Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
		assert.match(fileFault(eisdir, 'read', '/x/events.jsonl').message, /^\/x\/events\.jsonl: cannot read: is a folder/);
		assert.ok(!/\n\s+at /.test(f.message), 'no stack trace');
	});

	test('chmod 000 reads as "not readable"', { skip: process.getuid?.() === 0 ? 'running as root: root reads any file, so permissions cannot be tested (fileFault covers EACCES above)' : false }, () => {
		const f = path.join(tmp, 'locked.csv');
		fs.writeFileSync(f, 'a');
		fs.chmodSync(f, 0);
		assert.throws(() => readRegularFileSync(f), (e: unknown) => e instanceof FileFault && e.kind === 'not-readable');
	});
});

describe('resolveInsideSync', () => {
	const root = path.join(tmp, 'run');
	const outsideFile = path.join(tmp, 'secret.bin');
	fs.mkdirSync(path.join(root, 'cp'), { recursive: true });
	fs.writeFileSync(path.join(root, 'cp', 'weights.bin'), 'w');
	fs.writeFileSync(outsideFile, 'secret');
	fs.symlinkSync(outsideFile, path.join(root, 'cp', 'link.bin'));
	fs.symlinkSync(path.join(root, 'cp', 'weights.bin'), path.join(root, 'cp', 'inner-link.bin'));

	test('a path inside resolves (symlinks inside are fine)', () => {
		assert.equal(resolveInsideSync(root, 'cp/weights.bin', 'a weights file'), fs.realpathSync(path.join(root, 'cp', 'weights.bin')));
		assert.equal(resolveInsideSync(root, 'cp/inner-link.bin', 'a weights file'), fs.realpathSync(path.join(root, 'cp', 'weights.bin')));
	});

	test('../, absolute paths and symlinks out are refused with the same words as a missing file', () => {
		const messages = ['../secret.bin', outsideFile, 'cp/link.bin', 'cp/missing.bin', '../missing.bin'].map((rel) => {
			try {
				resolveInsideSync(root, rel, 'a weights file');
				return 'resolved';
			} catch (e) {
				assert.ok(e instanceof FileFault && e.kind === 'outside', String(e));
				return e.reason;
			}
		});
		assert.equal(new Set(messages).size, 1, messages.join(' | '));
		assert.match(messages[0], /must exist inside .* \(it is missing, or outside it\)/);
		assert.ok(!messages[0].includes('secret'), 'the message reveals nothing about the outside file');
	});
});

describe('escapeControl', () => {
	test('newlines, NUL, escape sequences and C1 controls are escaped; other text is kept', () => {
		assert.equal(escapeControl('a\nb\r\tc\u0000d\u001b[31me\u0085f'), 'a\\nb\\r\\tc\\0d\\x1b[31me\\x85f');
		assert.equal(escapeControl('ünïcödé λ1 ✓'), 'ünïcödé λ1 ✓');
	});
});
