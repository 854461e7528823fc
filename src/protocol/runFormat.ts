/**
 * The on-disk run format shared by the SDK (writer), the extension host, the analyser and the CLI (readers).
 *
 * A run lives in `<workspace>/.poison-lens/runs/<runId>/`. See docs/run-format.md.
 * This module is pure: no `vscode`, no tfjs.
 */

/** Major version of the run format; readers refuse runs with a different major. */
export const RUN_FORMAT_MAJOR = 1;

/** Folder (relative to a workspace folder) that holds run folders. */
export const RUNS_DIR = '.poison-lens/runs';

/** Glob, relative to a workspace folder, matching every run manifest. */
export const MANIFEST_GLOB = '**/.poison-lens/runs/*/manifest.json';

/** Minimal manifest fields every run carries (v1 extends this; see docs/run-format.md). */
export interface RunManifestCore {
	readonly schemaVersion: string;
	readonly runId: string;
	readonly name: string;
	/** ISO 8601 timestamp. */
	readonly createdAt: string;
}

/** Thrown when a run file does not match the format; the message names the file and the field. */
export class RunFormatError extends Error {
	constructor(
		readonly file: string,
		message: string,
	) {
		super(`${file}: ${message}`);
		this.name = 'RunFormatError';
	}
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates the core fields of a manifest.
 * @param text the file's contents
 * @param file the file's path, used in error messages
 * @throws RunFormatError naming the file and the offending field or value
 */
export function parseManifestCore(text: string, file: string): RunManifestCore {
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch (err) {
		throw new RunFormatError(file, `not valid JSON (${(err as Error).message})`);
	}
	if (!isRecord(data)) {
		throw new RunFormatError(file, 'expected a JSON object at the top level');
	}
	for (const key of ['schemaVersion', 'runId', 'name', 'createdAt'] as const) {
		if (typeof data[key] !== 'string' || data[key].length === 0) {
			throw new RunFormatError(file, `field "${key}" must be a non-empty string, got ${JSON.stringify(data[key])}`);
		}
	}
	const schemaVersion = data.schemaVersion as string;
	const major = Number.parseInt(schemaVersion.split('.')[0] ?? '', 10);
	if (major !== RUN_FORMAT_MAJOR) {
		throw new RunFormatError(file, `schemaVersion "${schemaVersion}" is not supported (this version of Poison Lens reads ${RUN_FORMAT_MAJOR}.x)`);
	}
	const createdAt = data.createdAt as string;
	if (Number.isNaN(Date.parse(createdAt))) {
		throw new RunFormatError(file, `field "createdAt" is not an ISO 8601 date: ${JSON.stringify(createdAt)}`);
	}
	return { schemaVersion, runId: data.runId as string, name: data.name as string, createdAt };
}
