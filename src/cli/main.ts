/**
 * `poison-lens`: the package's `bin` (bundled to dist/cli.js with a shebang).
 *
 *   poison-lens analyse <runDir> [options]   analyse a run folder (src/cli/analyse.ts)
 *   poison-lens scan <file> [options]        dataset diagnostics (src/cli/scan.ts)
 *   poison-lens demo [options]               train a poisoned demo run (src/cli/demo.ts)
 *   poison-lens report <runDir> [options]    a self-contained HTML report of a run (src/cli/report.ts)
 *   poison-lens --help | --version
 *
 * Exit codes (docs/analyser.md): 0 success; 1 failure; 2 usage error; each command documents more.
 */
import { version } from '../../package.json';
import { runAnalyse } from './analyse';
import { runDemo } from './demo';
import { runReport } from './report';
import { runScan } from './scan';

const HELP = `poison-lens ${version}: spots data-poisoning and backdoor risk in TensorFlow.js training runs.

Usage:
  poison-lens analyse <runDir> [--backend auto|wasm|cpu|gpu] [--k 5] [--json out.json] [--follow] [--full]
                      [--format text|json|sarif] [--output FILE] [--fail-on VERDICTS] [--summary md]
  poison-lens scan <dataset file> [--format text|json|sarif] [--fail-on SEVERITY] [--summary md] [options]
  poison-lens report <runDir> [--out report.html]
  poison-lens demo [options]
  poison-lens --help | --version

Run "poison-lens <command> --help" for a command's options.
`;

/**
 * Dispatches a command line (without the node and script arguments).
 * @returns the process exit code
 */
export async function main(argv: string[]): Promise<number> {
	const [command, ...rest] = argv;
	switch (command) {
		case 'analyse':
		case 'analyze':
			return runAnalyse(rest);
		case 'scan':
			return runScan(rest);
		case 'demo':
			return runDemo(rest);
		case 'report':
			return runReport(rest);
		case '--version':
		case '-v':
			process.stdout.write(`${version}\n`);
			return 0;
		case undefined:
		case '--help':
		case '-h':
		case 'help':
			process.stdout.write(HELP);
			return 0;
		default:
			process.stderr.write(`poison-lens: unknown command "${command}"\n\n${HELP}`);
			return 2;
	}
}

if (require.main === module) {
	main(process.argv.slice(2)).then(
		(code) => {
			process.exitCode = code;
		},
		(err: unknown) => {
			process.stderr.write(`poison-lens: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
			process.exitCode = 1;
		},
	);
}
