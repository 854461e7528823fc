/**
 * `npm run reproduce [-- --quick]`: reproduces the paper's findings with Poison Lens's own engine
 * (docs/results.md). Writes CSV + JSON to docs/results/<quick|full>/ and PNG figures to
 * docs/results/<mode>/figures/.
 *
 *   --quick              minutes on 2 cores: fewer points, 1 seed, small subsets
 *   --only=a,b           sections to run: theory, linear, cnn, defence (default all)
 *   --fresh              ignore finished points on disk (the full run resumes by default)
 *   --no-figures         skip the PNG rendering
 *   --report             run no new points: aggregate, draw and report what the CSVs hold
 *   --seeds=N            override the seed count
 *   --dataset=NAME       CNN/defence: only the points of mnist or fashion-mnist
 *   --shard=I/N          run only pending point I, I+N, I+2N, … (parallel workers; merge them after)
 *   --deadline=S         start no new point after S seconds (a worker with a time limit)
 *   --out=DIR            write results under DIR/<mode>/ instead of docs/results (docs/results.md untouched)
 *   --merge=DIR[,DIR]    fold the CNN/defence rows of workers' --out folders into this run's CSVs first
 *
 * `npm run reproduce --quick` (without `--`) reaches the script as npm_config_quick=true; both work.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FigureSpec } from './charts';
import { type Mode, REPO_ROOT, makeLogger, outDirs, writeJson } from './io';
import { renderFigures } from './render';
import { runTheory } from './theory';
import { runLinear } from './linear';
import { runCnn } from './cnn';
import { parseArgs, type Section, SECTIONS } from './args';
import { updateResultsDoc } from './report';

/** sha256 (first 12 hex digits) of each engine folder the experiments use, over its .ts files in name order. */
function codeFingerprint(): Record<string, string> {
	const folders = ['src/theory', 'src/math/linalg', 'src/analyser/analysis', 'src/analyser/curvature', 'src/sdk', 'src/sdk/attacks', 'src/protocol', 'src/tfjs', 'src/datasets', 'bench/reproduce'];
	const out: Record<string, string> = {};
	for (const f of folders) {
		const dir = path.join(REPO_ROOT, f);
		if (!fs.existsSync(dir)) {
			continue;
		}
		const h = crypto.createHash('sha256');
		for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
			h.update(name);
			h.update(fs.readFileSync(path.join(dir, name)));
		}
		out[f] = h.digest('hex').slice(0, 12);
	}
	return out;
}

async function main(): Promise<void> {
	const args = parseArgs(process.argv.slice(2), process.env);
	const mode: Mode = args.quick ? 'quick' : 'full';
	const out = args.out === null ? outDirs(mode) : outDirs(mode, path.resolve(args.out));
	const log = makeLogger();
	const fingerprint = codeFingerprint();
	log(`mode ${mode}, sections ${args.sections.join(', ')}, output ${path.relative(REPO_ROOT, out.dir)}`);
	const figures: FigureSpec[] = [];
	const done: Section[] = [];
	const t0 = Date.now();
	const timings: Record<string, number> = {};
	const want = (s: Section): boolean => args.sections.includes(s);
	if (want('theory')) {
		const t = Date.now();
		const r = runTheory(out, log);
		figures.push(...r.figures);
		timings.theory = (Date.now() - t) / 1000;
		done.push('theory');
	}
	if (want('linear')) {
		const t = Date.now();
		const r = await runLinear(out, args, log);
		figures.push(...r.figures);
		timings.linear = (Date.now() - t) / 1000;
		done.push('linear');
	}
	if (want('cnn') || want('defence')) {
		const t = Date.now();
		const r = await runCnn(out, args, log, t0);
		figures.push(...r.figures);
		timings.cnn = (Date.now() - t) / 1000;
		done.push(...args.sections.filter((s) => s === 'cnn' || s === 'defence'));
	}
	let figureError: string | null = null;
	if (args.figures) {
		const t = Date.now();
		try {
			await renderFigures(figures, out.figures, log);
		} catch (e) {
			// The CSVs and the page are still worth writing; the exit code says the figures are missing.
			figureError = e instanceof Error ? e.message : String(e);
			log(`figures NOT rendered: ${figureError}`);
		}
		timings.figures = (Date.now() - t) / 1000;
	}
	const runInfo = {
		mode,
		sections: done,
		seeds: args.seeds,
		startedAt: new Date(t0).toISOString(),
		finishedAt: new Date().toISOString(),
		seconds: (Date.now() - t0) / 1000,
		timings,
		node: process.version,
		cpus: os.cpus().length,
		loadAverageAtEnd: os.loadavg(),
		// The engine was still changing while results were produced: these hashes say which version ran.
		codeFingerprint: fingerprint,
	};
	// A history, newest last: a resumed or figures-only pass must not hide the timing of the pass that did the work.
	const infoFile = path.join(out.dir, 'run_info.json');
	let history: unknown[] = [];
	if (fs.existsSync(infoFile)) {
		const old = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as unknown;
		history = Array.isArray(old) ? old : [old];
	}
	writeJson(infoFile, [...history, runInfo]);
	const doc = path.join(REPO_ROOT, 'docs', 'results.md');
	if (args.out === null && fs.existsSync(doc)) {
		const updated = updateResultsDoc(fs.readFileSync(doc, 'utf8'), out.dir, mode);
		fs.writeFileSync(doc, updated.text);
		log(`docs/results.md: ${updated.blocks.length} generated block(s) refreshed (${updated.blocks.join(', ') || 'none'})`);
	}
	log(`done in ${runInfo.seconds.toFixed(0)} s`);
	if (figureError !== null) {
		process.exitCode = 1;
	}
}

void main().catch((e: unknown) => {
	process.stderr.write(`reproduce: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
	process.exitCode = 1;
});

export type { Section };
export { SECTIONS };
