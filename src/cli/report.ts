/**
 * `poison-lens report <runDir> [--out report.html]`: writes the run's shareable report, one self-contained HTML
 * file (src/report/html.ts) that opens offline.
 *
 * Exit codes: 0 written; 1 the run cannot be read or the file cannot be written; 2 usage error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { version } from '../../package.json';
import { collectReport } from '../report/collect';
import { buildReportHtml } from '../report/html';
import { parseCommandLine, parseOrExitCode, stringOpt, UsageError, wantsHelp, type OptionSpec } from './args';

const HELP = `Usage: poison-lens report <runDir> [options]

Writes a shareable report of a run: one self-contained HTML file (verdict in words, charts as inline SVG, the
candidate trigger and eigenvector images, the suspects table, the checkpoints and the run's settings) that opens
offline and loads nothing from the network. Run "poison-lens analyse <runDir>" first for a verdict.

Options:
  -o, --out FILE   where to write the report (default <runDir>/report.html; "-" for stdout)
  --workspace DIR  folder a relative dataset source is resolved against (default: the folder holding
                   .poison-lens/runs, then the current folder), for the suspects' dataset lines
  -h, --help       show this help

Options take their value as "--opt value" or "--opt=value".

Exit codes: 0 written; 1 the run cannot be read or the report cannot be written; 2 usage error.
`;

const REPORT_OPTIONS = {
	out: { type: 'string', short: 'o' },
	workspace: { type: 'string' },
	help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** Parsed `report` options. */
export interface ReportArgs {
	readonly runDir: string;
	readonly out: string;
	readonly workspace: string | null;
}

/**
 * Parses `report` arguments.
 * @throws UsageError naming the bad flag or value
 */
export function parseReportArgs(argv: readonly string[], cwd = process.cwd()): ReportArgs | 'help' {
	if (wantsHelp(argv)) {
		return 'help';
	}
	const parsed = parseCommandLine(argv, REPORT_OPTIONS);
	const [runDir, extra] = parsed.positionals;
	if (runDir === undefined) {
		throw new UsageError('missing <runDir>');
	}
	if (extra !== undefined) {
		throw new UsageError(`unexpected argument "${extra}" (the run folder is already "${runDir}")`);
	}
	const dir = path.resolve(cwd, runDir);
	const out = stringOpt(parsed, 'out');
	const ws = stringOpt(parsed, 'workspace');
	return { runDir: dir, out: out === undefined ? path.join(dir, 'report.html') : out === '-' ? '-' : path.resolve(cwd, out), workspace: ws === undefined ? null : path.resolve(cwd, ws) };
}

/**
 * Runs `poison-lens report …`.
 * @returns the process exit code
 */
export async function runReport(argv: string[]): Promise<number> {
	const args = parseOrExitCode('report', HELP, () => parseReportArgs(argv));
	if (typeof args === 'number') {
		return args;
	}
	if (!fs.existsSync(args.runDir)) {
		process.stderr.write(`poison-lens report: ${args.runDir}: no such folder\n`);
		return 1;
	}
	let html: string;
	try {
		html = buildReportHtml(await collectReport(args.runDir, { workspaceRoot: args.workspace, toolVersion: version }));
	} catch (err) {
		process.stderr.write(`poison-lens report: ${(err as Error).message}\n`);
		return 1;
	}
	if (args.out === '-') {
		process.stdout.write(html);
		return 0;
	}
	try {
		await fs.promises.writeFile(args.out, html, 'utf8');
	} catch (err) {
		process.stderr.write(`poison-lens report: cannot write ${args.out}: ${(err as Error).message}\n`);
		return 1;
	}
	process.stdout.write(`poison-lens report: wrote ${args.out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB)\n`);
	return 0;
}
