/**
 * The set of runs the dashboard shows: every run folder under the watched roots
 * (`<workspace>/.poison-lens/runs/*`) plus any folder the user opened explicitly. Pure Node (no
 * `vscode`): the panel feeds it file-change paths and posts what it returns.
 */

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE } from '../../protocol/runFormat';
import type { ChartId, RunView, Snapshot } from '../../protocol/webview';
import { analysisCsv, blindCsv, csvKind, metricsCsv } from './csv';
import { DEFAULT_MAX_POINTS } from './decimate';
import { RunReader } from './runStore';

async function isDir(p: string): Promise<boolean> {
	try {
		return (await fsp.stat(p)).isDirectory();
	} catch {
		return false;
	}
}

async function exists(p: string): Promise<boolean> {
	try {
		await fsp.access(p);
		return true;
	} catch {
		return false;
	}
}

/** What a refresh of one run folder produced. */
export type RunChange = { readonly kind: 'updated'; readonly run: RunView } | { readonly kind: 'removed'; readonly runId: string };

/** Every run the dashboard knows, read incrementally. */
export class RunsModel {
	private readonly readers = new Map<string, RunReader>();
	/** Folders opened explicitly (kept even when outside every root). */
	private readonly pinned = new Set<string>();
	private primaryDir: string | null = null;

	/**
	 * @param roots folders whose sub-folders are runs (re-evaluated on every discovery, so added workspace folders count)
	 * @param maxPoints the most points per metric series sent to the webview
	 */
	constructor(
		private readonly roots: () => readonly string[],
		private readonly maxPoints: () => number = () => DEFAULT_MAX_POINTS,
	) {}

	/** Absolute run folders currently known. */
	get runDirs(): string[] {
		return [...this.readers.keys()];
	}

	/** Finds the reader of a run by id. */
	byId(runId: string): RunReader | undefined {
		return [...this.readers.values()].find((r) => r.id === runId);
	}

	/** Scans the roots for run folders (those with a manifest) and reads any new one. */
	async discover(): Promise<RunChange[]> {
		const changes: RunChange[] = [];
		for (const root of this.roots()) {
			let names: string[];
			try {
				names = await fsp.readdir(root);
			} catch {
				continue;
			}
			for (const name of names.sort()) {
				const dir = path.resolve(root, name);
				if (!this.readers.has(dir) && (await isDir(dir)) && (await exists(path.join(dir, MANIFEST_FILE)))) {
					const c = await this.refreshDir(dir);
					if (c !== null) {
						changes.push(c);
					}
				}
			}
		}
		return changes;
	}

	/**
	 * Opens a run folder (also outside the roots) and makes it the primary run.
	 * @throws Error naming the folder when it has no manifest
	 */
	async open(dir: string): Promise<RunView> {
		const abs = path.resolve(dir);
		if (!(await exists(path.join(abs, MANIFEST_FILE)))) {
			throw new Error(`${abs} is not a Poison Lens run folder: it has no ${MANIFEST_FILE}`);
		}
		this.pinned.add(abs);
		const reader = this.ensure(abs);
		await reader.refresh();
		this.primaryDir = abs;
		return reader.view(this.maxPoints());
	}

	/** Makes a known run the primary one (the webview's choice, kept for the next snapshot). */
	select(runId: string): void {
		const r = this.byId(runId);
		if (r !== undefined) {
			this.primaryDir = r.dir;
		}
	}

	/** The primary run's folder, if any. */
	get primary(): string | null {
		return this.primaryDir;
	}

	private ensure(dir: string): RunReader {
		let r = this.readers.get(dir);
		if (r === undefined) {
			r = new RunReader(dir);
			this.readers.set(dir, r);
		}
		return r;
	}

	/**
	 * Maps a changed file to the run folder it belongs to: a known run's folder, or a direct
	 * sub-folder of a root (a run being created). Null for anything else.
	 */
	runDirFor(file: string): string | null {
		const abs = path.resolve(file);
		for (const dir of this.readers.keys()) {
			if (abs === dir || abs.startsWith(dir + path.sep)) {
				return dir;
			}
		}
		for (const root of this.roots()) {
			const rel = path.relative(path.resolve(root), abs);
			if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) {
				return path.join(path.resolve(root), rel.split(path.sep)[0]);
			}
		}
		return null;
	}

	/**
	 * Re-reads one run folder.
	 * @returns the new view when something changed, `removed` when the folder (or its manifest) is gone, else null
	 */
	async refreshDir(dir: string): Promise<RunChange | null> {
		const abs = path.resolve(dir);
		if (!(await exists(path.join(abs, MANIFEST_FILE)))) {
			const r = this.readers.get(abs);
			if (r !== undefined && !(await isDir(abs))) {
				this.readers.delete(abs);
				this.pinned.delete(abs);
				if (this.primaryDir === abs) {
					this.primaryDir = null;
				}
				return { kind: 'removed', runId: r.id };
			}
			if (r === undefined) {
				// A run folder being created: wait for its manifest.
				return null;
			}
		}
		const reader = this.ensure(abs);
		const changed = await reader.refresh();
		return changed ? { kind: 'updated', run: reader.view(this.maxPoints()) } : null;
	}

	/** Re-reads every known run; returns what changed. */
	async refreshAll(): Promise<RunChange[]> {
		const out: RunChange[] = [];
		for (const dir of [...this.readers.keys()]) {
			const c = await this.refreshDir(dir);
			if (c !== null) {
				out.push(c);
			}
		}
		return out;
	}

	/** The full state for the webview: every run, newest first, and the primary run. */
	snapshot(): Snapshot {
		const views = [...this.readers.values()].map((r) => r.view(this.maxPoints()));
		views.sort((a, b) => b.info.createdAt.localeCompare(a.info.createdAt) || a.info.name.localeCompare(b.info.name));
		const primary = this.primaryDir === null ? undefined : this.readers.get(this.primaryDir);
		const roots = this.roots();
		return { runs: views, primaryRunId: primary?.id ?? views[0]?.info.id ?? null, runsRoot: roots[0] ?? null };
	}

	/**
	 * The CSV behind a chart, at full resolution.
	 * @param runIds the runs to include (unknown ids are skipped)
	 */
	csv(chart: ChartId, runIds: readonly string[]): string {
		const readers = runIds.map((id) => this.byId(id)).filter((r): r is RunReader => r !== undefined);
		if (csvKind(chart) === 'metrics') {
			return metricsCsv(readers.map((r) => ({ runId: r.id, metrics: r.fullMetrics() })));
		}
		if (csvKind(chart) === 'blind') {
			return blindCsv(readers.map((r) => ({ info: r.info(), blind: r.blindPoints() })));
		}
		return analysisCsv(readers.map((r) => ({ info: r.info(), checkpoints: r.analysisPoints() })));
	}
}
