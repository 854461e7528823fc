import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOrExitCode, UsageError } from '../../../src/cli/args';

/** Runs `f` with process.stdout/stderr.write captured. */
function capture<T>(f: () => T): { result: T; stdout: string; stderr: string } {
	let stdout = '';
	let stderr = '';
	const out = process.stdout.write.bind(process.stdout);
	const err = process.stderr.write.bind(process.stderr);
	process.stdout.write = ((s: string) => ((stdout += s), true));
	process.stderr.write = ((s: string) => ((stderr += s), true));
	try {
		return { result: f(), stdout, stderr };
	} finally {
		process.stdout.write = out;
		process.stderr.write = err;
	}
}

describe('parseOrExitCode: the start every command shares', () => {
	const HELP = 'Usage: poison-lens x <file>';
	test('parsed arguments pass through, nothing printed', () => {
		const r = capture(() => parseOrExitCode('x', HELP, () => ({ file: 'a' })));
		assert.deepEqual(r, { result: { file: 'a' }, stdout: '', stderr: '' });
	});
	test('help goes to stdout with one trailing newline, exit code 0', () => {
		for (const help of [HELP, `${HELP}\n`]) {
			const r = capture(() => parseOrExitCode('x', help, () => 'help' as const));
			assert.deepEqual(r, { result: 0, stdout: `${HELP}\n`, stderr: '' });
		}
	});
	test('a usage error goes to stderr with the help, exit code 2; other errors are thrown on', () => {
		const r = capture(() =>
			parseOrExitCode('x', HELP, () => {
				throw new UsageError('unknown option "--bogus"');
			}),
		);
		assert.deepEqual(r, { result: 2, stdout: '', stderr: `poison-lens x: unknown option "--bogus"\n\n${HELP}\n` });
		assert.throws(() =>
			parseOrExitCode('x', HELP, () => {
				throw new RangeError('bug');
			}),
		/bug/);
	});
});
