/**
 * Where the CI outputs of the CLI go: the SARIF base (the current folder as %SRCROOT%) and the Markdown summary
 * (appended to `--summary-file`, else `$GITHUB_STEP_SUMMARY`, else printed on stdout).
 */
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { version } from '../../package.json';
import type { SarifBase } from '../ci/sarif';

/** The SARIF base of a CLI run: paths relative to `cwd`. */
export function sarifBase(cwd: string, argv: readonly string[]): SarifBase {
	const uri = pathToFileURL(cwd).href;
	return { srcRootUri: uri.endsWith('/') ? uri : `${uri}/`, toolVersion: version, commandLine: ['poison-lens', ...argv].join(' ') };
}

/** Appends a Markdown summary to `file` (a CI job summary accumulates steps), or prints it when `file` is null. */
export async function writeSummary(md: string, file: string | null): Promise<void> {
	if (file === null || file === '-') {
		process.stdout.write(`\n${md}`);
		return;
	}
	await fs.promises.appendFile(file, md, 'utf8');
	process.stderr.write(`poison-lens: summary appended to ${file}\n`);
}
