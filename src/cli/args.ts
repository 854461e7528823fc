/**
 * The argument layer every `poison-lens` command shares: node:util `parseArgs` in strict mode, so each command
 * accepts `--opt value` and `--opt=value`, answers `--help`/`-h` anywhere on its line, and turns a mistake into a
 * {@link UsageError} that names the flag (the command prints it with its help and exits 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line mistake; the message names the flag and, where there is one, the value. */
export class UsageError extends Error {}

/** Option declarations in parseArgs' shape (`type` string or boolean, optional `short`, `multiple`). */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What a command line parsed to: the option values by long name, and the positionals in order. */
export interface ParsedCommandLine {
	readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
	readonly positionals: readonly string[];
}

/** The first quoted flag in one of parseArgs' messages (`'--json <value>'`, `'--bogus'`, `'-x'`). */
function flagOf(message: string): string | null {
	const m = /'(--?[A-Za-z0-9][\w-]*)/.exec(message);
	return m === null ? null : m[1];
}

/** Rewrites a parseArgs error as a one-line usage error that names the flag. */
function usageErrorFrom(err: unknown): UsageError {
	const e = err as { code?: string; message?: string };
	const message = e.message ?? String(err);
	const flag = flagOf(message);
	switch (e.code) {
		case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
			return new UsageError(`unknown option "${flag ?? message}"`);
		case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
			if (/does not take an argument/.test(message)) {
				return new UsageError(`option "${flag ?? '?'}" takes no value`);
			}
			return new UsageError(`option "${flag ?? '?'}" needs a value`);
		case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
			return new UsageError(message);
		default:
			return new UsageError(message);
	}
}

/**
 * True when the line asks for help (`--help` or `-h` before a `--` terminator), whatever else is on it.
 */
export function wantsHelp(argv: readonly string[]): boolean {
	for (const a of argv) {
		if (a === '--') {
			return false;
		}
		if (a === '--help' || a === '-h') {
			return true;
		}
	}
	return false;
}

/**
 * Parses a command line against `options` (strict: unknown flags, missing values and values on boolean flags
 * are errors). A value that starts with `-` must be written `--opt=-value`, except `-` itself (stdout).
 * @throws UsageError naming the flag
 */
export function parseCommandLine(argv: readonly string[], options: OptionSpec): ParsedCommandLine {
	try {
		const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
		return { values, positionals };
	} catch (err) {
		throw usageErrorFrom(err);
	}
}

/** The string value of option `name`, or undefined (the last one when it was given twice). */
export function stringOpt(parsed: ParsedCommandLine, name: string): string | undefined {
	const v = parsed.values[name];
	if (Array.isArray(v)) {
		const last = v[v.length - 1];
		return typeof last === 'string' ? last : undefined;
	}
	return typeof v === 'string' ? v : undefined;
}

/** Whether boolean option `name` was given. */
export function flagOpt(parsed: ParsedCommandLine, name: string): boolean {
	return parsed.values[name] === true;
}

/**
 * Prints a usage error with the command's help on stderr and returns the usage exit code (2).
 */
export function reportUsageError(command: string, err: UsageError, help: string): number {
	process.stderr.write(`poison-lens ${command}: ${err.message}\n\n${help.endsWith('\n') ? help : `${help}\n`}`);
	return 2;
}

/** Prints a command's help on stdout, ending in exactly one newline. */
export function printHelp(help: string): void {
	process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
}

/**
 * The start every command shares: parses its line with `parse`. `--help` prints the command's help on stdout
 * (exit code 0); a usage error prints its message and the help on stderr (exit code 2); any other error is
 * thrown on.
 * @param parse the command's parser, returning `'help'` when the line asks for help
 * @returns the parsed arguments, or the exit code to end with at once
 */
export function parseOrExitCode<A extends object>(command: string, help: string, parse: () => A | 'help'): A | number {
	let args: A | 'help';
	try {
		args = parse();
	} catch (err) {
		if (err instanceof UsageError) {
			return reportUsageError(command, err, help);
		}
		throw err;
	}
	if (args === 'help') {
		printHelp(help);
		return 0;
	}
	return args;
}
