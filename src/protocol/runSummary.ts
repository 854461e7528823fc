/**
 * Summaries of run folders for pickers and the CLI: name, date and a status read from the tail of `events.jsonl`.
 * Pure apart from reading files with `node:fs`; no `vscode`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseManifestCore, type RunManifestCore } from './runFormat';
import { runStatus, type RunActivity, type RunStatus } from './runStatus';

export type { RunStatus } from './runStatus';

export interface RunSummary {
	readonly dir: string;
	readonly manifest: RunManifestCore;
	readonly status: RunStatus;
	/** Last time anything was appended to the run's event log (ms since epoch); createdAt when there is none. */
	readonly lastActivity: number;
}

/** A run folder whose manifest could not be read; shown to the user with the reason instead of being dropped. */
export interface BrokenRun {
	readonly dir: string;
	readonly error: string;
}

const TAIL_BYTES = 64 * 1024;

/** The last complete record of an event log: its type, and its status for an `end` record. */
export interface LastEvent {
	readonly type: string;
	readonly status?: string;
}

/**
 * Reads the last complete record of an append-only JSONL file. A partial last line (a writer in the
 * middle of an append, or a process killed mid-write) is ignored, as the run format requires.
 */
export async function lastEvent(file: string): Promise<LastEvent | undefined> {
	let handle: fs.FileHandle;
	try {
		handle = await fs.open(file, 'r');
	} catch {
		return undefined;
	}
	try {
		const { size } = await handle.stat();
		const start = Math.max(0, size - TAIL_BYTES);
		const buf = Buffer.alloc(size - start);
		await handle.read(buf, 0, buf.length, start);
		const lines = buf.toString('utf8').split('\n');
		// The last element is '' after a complete final line, or a partial record otherwise: skip it either way.
		for (let i = lines.length - 2; i >= 0; i--) {
			const line = lines[i]?.trim();
			if (!line) {
				continue;
			}
			try {
				const rec = JSON.parse(line) as unknown;
				if (typeof rec === 'object' && rec !== null && typeof (rec as { type?: unknown }).type === 'string') {
					const { type, status } = rec as { type: string; status?: unknown };
					return typeof status === 'string' ? { type, status } : { type };
				}
			} catch {
				// A torn line in the middle of the window (only possible at the window's start): keep looking back.
			}
		}
		return undefined;
	} finally {
		await handle.close();
	}
}

/** The activity facts of an event log known only by its last record (what {@link lastEvent} reads). */
export function activityFromLastEvent(last: LastEvent | undefined, lastActivity: number): RunActivity {
	return {
		started: last !== undefined,
		ended: last?.type === 'end',
		failed: last?.type === 'error' || (last?.type === 'end' && last.status === 'failed'),
		lastActivity,
	};
}

/**
 * Reads one run folder.
 * @param manifestFile path of `<run>/manifest.json`
 * @returns the summary, or a {@link BrokenRun} whose error names the file and the problem
 */
export async function summariseRun(manifestFile: string, now = Date.now()): Promise<RunSummary | BrokenRun> {
	const dir = path.dirname(manifestFile);
	let manifest: RunManifestCore;
	try {
		manifest = parseManifestCore(await fs.readFile(manifestFile, 'utf8'), manifestFile);
	} catch (err) {
		return { dir, error: err instanceof Error ? err.message : String(err) };
	}
	const events = path.join(dir, 'events.jsonl');
	let lastActivity = Date.parse(manifest.createdAt);
	try {
		lastActivity = (await fs.stat(events)).mtimeMs;
	} catch {
		// No event log yet: the run was created and nothing was written since.
	}
	const status = runStatus(activityFromLastEvent(await lastEvent(events), lastActivity), now);
	return { dir, manifest, status, lastActivity };
}

export function isBroken(run: RunSummary | BrokenRun): run is BrokenRun {
	return 'error' in run;
}

/** Newest first, then by name, so pickers and CLI listings are stable. */
export function sortRuns(runs: readonly RunSummary[]): RunSummary[] {
	return [...runs].sort((a, b) => Date.parse(b.manifest.createdAt) - Date.parse(a.manifest.createdAt) || a.manifest.name.localeCompare(b.manifest.name));
}
