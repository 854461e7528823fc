/**
 * The Runs tree's content as plain data: one node per run (status and verdict icon, a one-line description), with
 * children for its checkpoints (errors included), its blind-mode suspects and its candidate trigger. Pure (no
 * `vscode`): src/host/runs/runsTree.ts turns nodes into TreeItems; unit-tested in Node.
 */
import type { Verdict } from '../../protocol/analysisRecord';
import type { RunStatus, RunView } from '../../protocol/webview';

/** Codicon ids and theme colour ids the view uses (the host maps them onto ThemeIcon and ThemeColor). */
export interface NodeIcon {
	readonly id: string;
	readonly color?: string;
}

export type RunNodeKind = 'run' | 'checkpoints' | 'checkpoint' | 'suspects' | 'suspect' | 'trigger' | 'message';

/** One row of the tree. */
export interface RunNode {
	/** Stable across refreshes (keeps expansion state). */
	readonly id: string;
	readonly kind: RunNodeKind;
	readonly runDir: string;
	readonly label: string;
	readonly description?: string;
	readonly tooltip?: string;
	readonly icon: NodeIcon;
	/** `contextValue`: menus key on it (`poisonLens.run`, `poisonLens.suspect` …). */
	readonly contextValue: string;
	readonly collapsible: 'none' | 'collapsed' | 'expanded';
	/** For a suspect: its training row, and its dataset line when known (1-based). */
	readonly row?: number;
	readonly line?: number | null;
	readonly step?: number;
}

const STATUS_ICON: Record<RunStatus, NodeIcon> = {
	created: { id: 'circle-outline' },
	training: { id: 'sync~spin', color: 'charts.blue' },
	finished: { id: 'pass', color: 'testing.iconPassed' },
	failed: { id: 'error', color: 'errorForeground' },
	interrupted: { id: 'debug-pause', color: 'charts.yellow' },
};

const VERDICT_ICON: Record<Verdict, NodeIcon> = {
	clean: { id: 'shield', color: 'testing.iconPassed' },
	'early-warning': { id: 'warning', color: 'charts.yellow' },
	visible: { id: 'warning', color: 'errorForeground' },
	lagging: { id: 'error', color: 'errorForeground' },
	invisible: { id: 'error', color: 'errorForeground' },
};

/** How many suspects a run node lists (the label gives the full count). */
export const MAX_SUSPECT_NODES = 25;

function pct(v: number): string {
	return `${(100 * v).toFixed(Math.abs(v) < 0.1 ? 1 : 0)} %`;
}

/** The newest epoch the run reached: its last metric point or its last analysed checkpoint. */
export function newestEpoch(view: RunView): number | null {
	let best: number | null = null;
	for (const m of view.metrics) {
		const e = m.series.epoch[m.series.epoch.length - 1];
		if (e !== undefined && Number.isFinite(e) && (best === null || e > best)) {
			best = e;
		}
	}
	for (const c of view.checkpoints) {
		if (best === null || c.epoch > best) {
			best = c.epoch;
		}
	}
	return best;
}

/** θ, epoch, and the newest excess ASR (or, without a declared attack, the blind-mode suspects). */
export function runDescription(view: RunView): string {
	const parts: string[] = [];
	if (view.info.theta !== null) {
		parts.push(`θ ${pct(view.info.theta)}`);
	}
	const epoch = newestEpoch(view);
	if (epoch !== null) {
		parts.push(`epoch ${epoch.toFixed(1)}`);
	}
	const last = [...view.checkpoints].reverse().find((c) => c.error === null && c.excessAsr !== null);
	if (last?.excessAsr !== null && last?.excessAsr !== undefined) {
		parts.push(`excess ASR ${pct(last.excessAsr)}`);
	} else if (view.summary?.blind?.suspects !== null && view.summary?.blind?.suspects !== undefined) {
		parts.push(`${view.summary.blind.suspects} suspects`);
	}
	if (view.summary !== null) {
		parts.push(view.summary.verdict);
	} else if (view.checkpoints.length === 0) {
		parts.push('not analysed');
	}
	return parts.join(' · ');
}

/** The run's icon: the verdict's when there is one, else the training status's. */
export function runIcon(view: RunView): NodeIcon {
	return view.summary !== null ? VERDICT_ICON[view.summary.verdict] : STATUS_ICON[view.info.status];
}

/** Top-level node of a run. */
export function runNode(view: RunView): RunNode {
	const s = view.summary;
	const tooltip = [
		view.info.name,
		`status: ${view.info.status}`,
		s === null ? 'not analysed yet' : `verdict: ${s.verdict}`,
		...(view.runError === null ? [] : [`error: ${view.runError}`]),
		view.info.dir,
	].join('\n');
	return {
		id: `run:${view.info.dir}`,
		kind: 'run',
		runDir: view.info.dir,
		label: view.info.name,
		description: runDescription(view),
		tooltip,
		icon: runIcon(view),
		contextValue: view.info.status === 'training' ? 'poisonLens.run.training' : 'poisonLens.run',
		collapsible: 'collapsed',
	};
}

/** A run's children: its error, checkpoints, suspects and candidate trigger. */
export function runChildren(view: RunView): RunNode[] {
	const dir = view.info.dir;
	const out: RunNode[] = [];
	const cps = view.checkpoints;
	const errors = cps.filter((c) => c.error !== null).length;
	if (view.runError !== null) {
		out.push({ id: `err:${dir}`, kind: 'message', runDir: dir, label: 'Training error', description: view.runError, tooltip: view.runError, icon: { id: 'error', color: 'errorForeground' }, contextValue: 'poisonLens.message', collapsible: 'none' });
	}
	out.push({
		id: `cps:${dir}`,
		kind: 'checkpoints',
		runDir: dir,
		label: 'Checkpoints',
		description: cps.length === 0 ? 'none analysed' : `${cps.length} analysed${errors > 0 ? `, ${errors} with errors` : ''}`,
		icon: { id: 'history' },
		contextValue: 'poisonLens.checkpoints',
		collapsible: cps.length === 0 ? 'none' : 'collapsed',
	});
	const b = view.summary?.blind ?? null;
	if (b !== null) {
		const rows = b.suspectRows ?? [];
		out.push({
			id: `sus:${dir}`,
			kind: 'suspects',
			runDir: dir,
			label: 'Suspects',
			description: `${b.suspects ?? rows.length} rows${b.flipRate === null ? '' : ` · trigger flips ${pct(b.flipRate)}`}`,
			icon: { id: 'search' },
			contextValue: 'poisonLens.suspects',
			collapsible: rows.length === 0 ? 'none' : 'collapsed',
		});
	}
	if (view.images.candidateTrigger !== undefined) {
		out.push({
			id: `trig:${dir}`,
			kind: 'trigger',
			runDir: dir,
			label: 'Candidate trigger',
			description: `${view.images.candidateTrigger.width}×${view.images.candidateTrigger.height}${b?.flipClass === null || b?.flipClass === undefined ? '' : ` → class ${b.flipClass}`}`,
			tooltip: 'The consensus direction of the suspects (blind mode). Open the dashboard to see it.',
			icon: { id: 'symbol-color' },
			contextValue: 'poisonLens.trigger',
			collapsible: 'none',
		});
	}
	return out;
}

/** The checkpoints of a run, newest first. */
export function checkpointNodes(view: RunView): RunNode[] {
	return [...view.checkpoints]
		.sort((a, b) => b.step - a.step)
		.map((c) => {
			const base = { id: `cp:${view.info.dir}:${c.step}`, kind: 'checkpoint' as const, runDir: view.info.dir, label: `step ${c.step}`, contextValue: 'poisonLens.checkpoint', collapsible: 'none' as const, step: c.step };
			if (c.error !== null) {
				return { ...base, description: `epoch ${c.epoch.toFixed(2)} · error: ${c.error}`, tooltip: c.error, icon: { id: 'error', color: 'errorForeground' } };
			}
			const parts = [`epoch ${c.epoch.toFixed(2)}`];
			if (c.excessAsr !== null) {
				parts.push(`excess ASR ${pct(c.excessAsr)}`);
			}
			if (c.cleanAccuracy !== null) {
				parts.push(`clean ${pct(c.cleanAccuracy)}`);
			}
			const l1 = c.topEigenvalues?.[0];
			if (l1 !== undefined && l1 !== null) {
				parts.push(`λ1 ${l1.toPrecision(3)}`);
			}
			return { ...base, description: parts.join(' · '), icon: { id: 'circle-filled', color: c.excessAsr !== null && c.excessAsr >= 0.2 ? 'errorForeground' : undefined } };
		});
}

/**
 * The top suspects of a run.
 * @param lines training row → 1-based dataset line, when the dataset file is known
 */
export function suspectNodes(view: RunView, lines: ReadonlyMap<number, number> | null, datasetName: string | null): RunNode[] {
	const rows = view.summary?.blind?.suspectRows ?? [];
	const nodes: RunNode[] = rows.slice(0, MAX_SUSPECT_NODES).map((row) => {
		const line = lines?.get(row) ?? null;
		return {
			id: `s:${view.info.dir}:${row}`,
			kind: 'suspect',
			runDir: view.info.dir,
			label: `row ${row}`,
			description: line !== null && datasetName !== null ? `${datasetName}:${line}` : (datasetName ?? undefined),
			tooltip: line !== null ? `Training row ${row} is line ${line} of ${datasetName ?? 'the dataset'}; click to open it.` : `Training row ${row} (the dataset file was not found in the workspace).`,
			icon: { id: 'bug', color: 'charts.orange' },
			contextValue: line !== null ? 'poisonLens.suspect.located' : 'poisonLens.suspect',
			collapsible: 'none',
			row,
			line,
		};
	});
	if (rows.length > MAX_SUSPECT_NODES) {
		nodes.push({ id: `smore:${view.info.dir}`, kind: 'message', runDir: view.info.dir, label: `… ${rows.length - MAX_SUSPECT_NODES} more`, tooltip: 'The report and the dashboard list every suspect.', icon: { id: 'ellipsis' }, contextValue: 'poisonLens.message', collapsible: 'none' });
	}
	return nodes;
}
