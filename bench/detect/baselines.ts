/**
 * Child process: runs the analyser's baseline detectors (src/analyser/detectors) over a BLIND run folder
 * (no declaration, no poisoned rows in it) and writes their scores as JSON.
 * Usage: node --import tsx bench/detect/baselines.ts <blindRunDir> <out.json>
 */
import * as fs from 'node:fs';
import { selectBackend } from '../../src/tfjs/backend';
import { installGradientFixes } from '../../src/tfjs/gradients';
import { runBaselines } from '../../src/analyser/detectors/run';

async function main(): Promise<void> {
	const [runDir, out] = process.argv.slice(2);
	await selectBackend('wasm');
	installGradientFixes();
	const r = await runBaselines(runDir, { timeline: true });
	const round = (v: number): number | null => (Number.isFinite(v) ? Number(v.toPrecision(5)) : null);
	fs.writeFileSync(
		out,
		JSON.stringify({
			rows: r.rows,
			labels: r.labels,
			timeline: r.timeline,
			detectors: r.detectors.map((d) => ({ ...d, rowScores: Array.from(d.rowScores, round), flagged: d.flagged.map((i) => r.rows[i]) })),
		}),
	);
}

main().then(
	() => process.exit(0),
	(err: unknown) => {
		process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
		process.exit(1);
	},
);
