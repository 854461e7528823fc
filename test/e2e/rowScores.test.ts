/**
 * `poison-lens scan <csv> --run <run>` as a user runs it: a small CNN is trained with the SDK on a
 * CSV made from real MNIST (14×14) with a BadNets patch planted in 3 % of the rows (and once with
 * none), then the bundled CLI scores the rows with the analyser's spectral signature. Build first:
 * `node esbuild.mjs`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '../../src/tfjs/backend';
import { installGradientFixes } from '../../src/tfjs/gradients';
import { SUSPECT_CUT } from '../../src/analyser/analysis/cascade';
import { makeSignatureWorkspace, type SignatureWorkspace } from '../fixtures/signature/makeSignatureRun';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-rowscores-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

interface ScanJson {
	file: string;
	rows: number;
	problems: { line: number; column: number; code: string; severity: string; message: string; related: number[] }[];
}

function scan(args: string[]): { code: number | null; stdout: string; stderr: string } {
	assert.ok(fs.existsSync(cli), `${cli} is missing: run "node esbuild.mjs" first`);
	const r = spawnSync(process.execPath, [cli, 'scan', ...args], { encoding: 'utf8', timeout: 180_000 });
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('poison-lens scan --run (spectral signature of input gradients)', { timeout: 600_000 }, () => {
	let poisoned: SignatureWorkspace;
	let clean: SignatureWorkspace;
	before(async () => {
		await selectBackend('wasm');
		installGradientFixes();
		poisoned = await makeSignatureWorkspace(path.join(tmpRoot, 'poisoned'));
		clean = await makeSignatureWorkspace(path.join(tmpRoot, 'clean'), { theta: 0 });
	});

	test('flags the planted BadNets rows of a real MNIST CSV: precision and recall ≥ 0.9', () => {
		const r = scan([poisoned.csv, '--run', poisoned.runDir, '--json', '-']);
		assert.equal(r.code, 0, r.stderr);
		const j = JSON.parse(r.stdout) as ScanJson;
		assert.equal(j.rows, poisoned.rows);
		const flagged = j.problems.filter((p) => p.code === 'spectral-signature');
		const truth = new Set(poisoned.poisonedLines);
		const tp = flagged.filter((p) => truth.has(p.line)).length;
		const precision = tp / Math.max(1, flagged.length);
		const recall = tp / truth.size;
		process.stderr.write(`row scores on the planted CSV: ${flagged.length} flagged, ${tp} of ${truth.size} poisons; precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}\n`);
		assert.ok(truth.size >= 80, `only ${truth.size} poisons planted`);
		assert.ok(precision >= 0.9, `precision ${precision}`);
		assert.ok(recall >= 0.9, `recall ${recall}`);
		for (const p of flagged) {
			assert.equal(p.severity, 'warning');
			assert.match(p.message, /separation S = [\d.]+ ≥ 40; run 'mnist14 badnets 3% \(signature fixture\)', checkpoint \d+/);
			assert.ok(p.related.length > 0 && !p.related.includes(p.line));
		}
	});

	test('the clean control run flags nothing', () => {
		const r = scan([clean.csv, '--run', clean.runDir]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /row scores \(wasm.*?\): run 'mnist14 badnets 0% \(signature fixture\)', checkpoint \d+ of \d+ tried, 3000 of 3000 rows scored, 0 flagged \(largest label separation S = [\d.]+, threshold 40\)/);
		assert.doesNotMatch(r.stdout, /spectral-signature/);
	});

	test('one score per row: scan --run and the run\'s own blind scan (poison-lens analyse) give every row the same score', () => {
		const scoresFile = path.join(poisoned.runDir, 'blind', 'row-scores.csv');
		fs.rmSync(scoresFile, { force: true });
		const viaScan = scan([poisoned.csv, '--run', poisoned.runDir]);
		assert.equal(viaScan.code, 0, viaScan.stderr);
		assert.match(viaScan.stdout, new RegExp(`row suspicion \\(blind mode, checkpoint \\d+\\): scored all 3000 training rows; \\d+ suspects at or above the cut ${SUSPECT_CUT}[ (]`));
		const fromScan = fs.readFileSync(scoresFile, 'utf8');
		// The run route recomputes from scratch.
		fs.rmSync(scoresFile);
		const viaRun = spawnSync(process.execPath, [cli, 'analyse', poisoned.runDir, '--backend', 'wasm'], { encoding: 'utf8', timeout: 300_000 });
		assert.equal(viaRun.status, 0, viaRun.stderr);
		const fromRun = fs.readFileSync(scoresFile, 'utf8');
		const table = (text: string): string[] => text.trim().split('\n').slice(2);
		assert.equal(table(fromRun).length, 3000);
		assert.deepEqual(table(fromRun), table(fromScan), 'every row: same label, score, suspect flag and stage scores');
		// The suspects scan prints carry the file's scores, on the file's lines (data row i = line i + 2).
		const printed = [...viaScan.stdout.matchAll(/line (\d+): row (\d+), label \d+, score ([-\d.e+]+)/g)];
		assert.ok(printed.length > 0, viaScan.stdout);
		const byRow = new Map(table(fromRun).map((l) => [Number(l.split(',')[0]), Number(l.split(',')[2])]));
		for (const m of printed) {
			assert.equal(Number(m[1]), Number(m[2]) + 2);
			assert.equal(Number(m[3]), byRow.get(Number(m[2])));
		}
		// A second scan reads the stored scores instead of recomputing them.
		const again = scan([poisoned.csv, '--run', poisoned.runDir]);
		assert.match(again.stdout, /read from the run folder/);
	});

	test('a file whose rows do not match the run is refused with both counts named', () => {
		const lines = fs.readFileSync(poisoned.csv, 'utf8').split('\n');
		const short = path.join(tmpRoot, 'short.csv');
		fs.writeFileSync(short, lines.slice(0, 1001).join('\n') + '\n');
		const r = scan([short, '--run', poisoned.runDir]);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /trained on 3000 rows but this file has 1000 data rows/);
		const missing = scan([poisoned.csv, '--run', path.join(tmpRoot, 'nope')]);
		assert.equal(missing.code, 2);
		assert.match(missing.stderr, /cannot score rows with run .*nope/);
	});
});
