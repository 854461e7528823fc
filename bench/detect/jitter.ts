/**
 * How stable is the per-sample curvature blind mode uses? For a run's training sample at its newest checkpoint:
 * the top input-Hessian eigenpair of every sample at x and at x + ε·g (g a seeded standard Gaussian, ε = 1e-6 by
 * default), the relative change of λ1 and the cos² between the two top eigenvectors. ReLU kinks and max-pool ties
 * make the exact per-sample Hessian jump under tiny input changes (many first-layer ReLU inputs are exactly 0).
 *
 *     node --import tsx bench/detect/jitter.ts RUN_DIR [--samples=512] [--eps=1e-6] [--seed=1]
 *
 * Prints quantiles of both; run it on dev runs only (bench/detect/rescore.ts states the split rule).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../../src/tfjs/backend';
import { loadRunContext, readTrainingSample } from '../../src/analyser/analysis/context';
import { loadCheckpointModel } from '../../src/analyser/analysis/checkpoint';
import { logitModelFromLayers } from '../../src/analyser/curvature/index';
import { batchCurvature } from '../../src/analyser/analysis/spectrum';
import { cos2, quantile } from '../../src/analyser/analysis/robust';
import { gaussianVector } from '../../src/math/random';

async function topEigen(logit: ReturnType<typeof logitModelFromLayers>, data: Float32Array, labels: Int32Array): Promise<{ lambda: number[]; vectors: Float64Array[] }> {
	const c = await batchCurvature(logit, data, labels);
	try {
		const ps = await c.perSample();
		return { lambda: Array.from(ps.eigenvalues), vectors: ps.eigenvectors.map((v) => Float64Array.from(v)) };
	} finally {
		c.dispose();
	}
}

async function main(argv: string[]): Promise<void> {
	const runDir = path.resolve(argv.find((a) => !a.startsWith('--')) ?? '');
	const opt = (name: string, def: number): number => Number(argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
	const samples = opt('samples', 512);
	const eps = opt('eps', 1e-6);
	const seed = opt('seed', 1);
	await selectBackend('wasm');
	const ctx = await loadRunContext(runDir);
	const steps = fs
		.readdirSync(path.join(runDir, 'checkpoints'))
		.filter((n) => /^\d+$/.test(n))
		.map(Number)
		.sort((a, b) => a - b);
	const ckpt = path.join(runDir, 'checkpoints', String(steps[steps.length - 1]));
	const sample = await readTrainingSample(ctx, 'jitter');
	const n = Math.min(samples, sample.count);
	const dim = ctx.dim;
	const model = await loadCheckpointModel(ctx, ckpt);
	const logit = logitModelFromLayers(model, ckpt);
	const x = sample.data.slice(0, n * dim);
	const labels = sample.labels.slice(0, n);
	const g = gaussianVector(n * dim, seed);
	const xj = Float32Array.from(x, (v, i) => v + eps * g[i]);
	const chunk = 256;
	const rel: number[] = [];
	const c2: number[] = [];
	for (let s = 0; s < n; s += chunk) {
		const m = Math.min(chunk, n - s);
		const a = await topEigen(logit, x.subarray(s * dim, (s + m) * dim), labels.subarray(s, s + m));
		const b = await topEigen(logit, xj.subarray(s * dim, (s + m) * dim), labels.subarray(s, s + m));
		for (let i = 0; i < m; i++) {
			rel.push(a.lambda[i] > 0 ? Math.abs(b.lambda[i] - a.lambda[i]) / a.lambda[i] : 0);
			c2.push(cos2(a.vectors[i], b.vectors[i]));
		}
	}
	logit.dispose();
	model.dispose();
	const q = (v: number[], p: number): string => quantile(v, p).toExponential(2);
	console.log(`run ${runDir}, checkpoint ${steps[steps.length - 1]}, ${n} training samples, ε = ${eps} (method ${logit.piecewiseLinear ? 'Gauss–Newton, exact for this net' : 'HVP'})`);
	console.log(`|Δλ1|/λ1: median ${q(rel, 0.5)}, p90 ${q(rel, 0.9)}, p99 ${q(rel, 0.99)}, max ${q(rel, 1)}; share > 1 %: ${((100 * rel.filter((r) => r > 0.01).length) / n).toFixed(1)} %`);
	console.log(
		`cos²(v1(x), v1(x + εg)): median ${quantile(c2, 0.5).toFixed(6)}, p10 ${quantile(c2, 0.1).toFixed(4)}, p1 ${quantile(c2, 0.01).toFixed(4)}, min ${quantile(c2, 0).toFixed(4)}; ` +
			`share < 0.9: ${((100 * c2.filter((c) => c < 0.9).length) / n).toFixed(1)} %`,
	);
}

main(process.argv.slice(2)).catch((err: unknown) => {
	console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
	process.exit(1);
});
