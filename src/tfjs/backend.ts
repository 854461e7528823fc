/**
 * Backend selection for the analyser, CLI and benches (docs/numerics.md §2).
 *
 * Three traps this module exists for:
 * - `tf.setBackend` can fail and leave tfjs silently on another backend, so the result of every
 *   switch is checked both through its boolean and through `tf.getBackend()`;
 * - the webgpu backend registers itself only if `navigator.gpu` exists *before* its import, and
 *   with no adapter `setBackend('webgpu')` returns false while `getBackend()` still says
 *   'webgpu' and every op throws; the fallback has to be set explicitly;
 * - importing the wasm backend makes it the highest-priority backend, so it is imported lazily
 *   here rather than at module load (a tensor created before `setBackend` would otherwise throw).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type * as WasmBackend from '@tensorflow/tfjs-backend-wasm';

/** What the user asked for (`--backend`, or the setting). */
export type BackendRequest = 'auto' | 'wasm' | 'cpu' | 'gpu' | 'tensorflow';

/** The request values, for argument parsing. */
export const BACKEND_REQUESTS: readonly BackendRequest[] = Object.freeze(['auto', 'wasm', 'cpu', 'gpu', 'tensorflow']);

/** What a WebGPU adapter says about itself (all strings may be empty). */
export interface GpuAdapterInfo {
	readonly vendor: string;
	readonly architecture: string;
	readonly device: string;
	readonly description: string;
	/** True for software adapters (lavapipe, llvmpipe, SwiftShader). */
	readonly isFallbackAdapter: boolean;
}

/** Read-only record of the backend actually in use after {@link selectBackend}. */
export interface BackendSelection {
	readonly requested: BackendRequest;
	/** `tf.getBackend()` after selection: 'wasm', 'cpu', 'webgpu' or 'tensorflow'. */
	readonly name: string;
	/** wasm only: whether the SIMD build was loaded; null on other backends. */
	readonly simd: boolean | null;
	/** webgpu only: the adapter tfjs runs on; null otherwise. */
	readonly adapter: GpuAdapterInfo | null;
	/** Why the requested backend is not the one in use; null when it is. */
	readonly fallbackReason: string | null;
	/** Human-readable one-liner, e.g. "wasm (SIMD)" or "webgpu: llvmpipe (software)". */
	readonly description: string;
}

/** Options for {@link selectBackend}. */
export interface SelectBackendOptions {
	/** Folder holding `tfjs-backend-wasm*.wasm`; default: next to this bundle, else node_modules. */
	readonly wasmDir?: string;
	/** Throw instead of falling back when the requested backend cannot start. Default false. */
	readonly strict?: boolean;
	/** Options passed to the `webgpu` package's `create()` (Dawn toggles). Default `[]`. */
	readonly dawnOptions?: readonly string[];
	/** Extra module-resolution roots for the optional tfjs-node packages (tests use this). */
	readonly resolvePaths?: readonly string[];
}

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * Finds the folder with the wasm binaries: an explicit folder, then the folder of the running
 * bundle (the build copies the .wasm files next to dist/analyser.js and dist/cli.js), then the
 * installed `@tensorflow/tfjs-backend-wasm/dist` (tsx / tests).
 */
export function findWasmDir(explicit?: string): string {
	const candidates: string[] = [];
	if (explicit !== undefined) {
		candidates.push(explicit);
	}
	candidates.push(__dirname);
	try {
		candidates.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')));
	} catch {
		// Not resolvable inside a packaged VSIX; the bundle folder is the answer there.
	}
	for (const dir of candidates) {
		if (fs.existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm')) && fs.existsSync(path.join(dir, 'tfjs-backend-wasm.wasm'))) {
			return dir;
		}
	}
	throw new Error(`wasm backend: none of ${candidates.join(', ')} contains ${WASM_FILES[0]} and ${WASM_FILES[1]}`);
}

let wasmModule: Promise<typeof WasmBackend> | undefined;

async function trySetBackend(name: string): Promise<{ ok: boolean; error: string | null }> {
	let ok = false;
	let error: string | null = null;
	// tfjs logs "Initialization of backend X failed" through console.warn; capture it as the reason.
	const originalWarn = console.warn;
	const warnings: string[] = [];
	console.warn = (...args: unknown[]) => {
		warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
	};
	try {
		ok = await tf.setBackend(name);
	} catch (e) {
		error = e instanceof Error ? e.message : String(e);
	} finally {
		console.warn = originalWarn;
	}
	await tf.ready().catch(() => undefined);
	if (ok && tf.getBackend() !== name) {
		ok = false;
		error = `setBackend('${name}') returned true but tf.getBackend() is '${tf.getBackend()}'`;
	}
	if (!ok && error === null) {
		error = warnings.length > 0 ? warnings.join('; ') : `setBackend('${name}') returned false`;
	}
	return { ok, error };
}

async function startWasm(options: SelectBackendOptions): Promise<{ ok: boolean; simd: boolean | null; error: string | null }> {
	try {
		const dir = findWasmDir(options.wasmDir);
		wasmModule ??= import('@tensorflow/tfjs-backend-wasm');
		const wasm = await wasmModule;
		// Threaded SIMD cannot start in Node (blob: worker URLs), and a failed start leaves tfjs on
		// cpu; keep it off explicitly.
		tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
		wasm.setWasmPaths(dir + path.sep);
		const { ok, error } = await trySetBackend('wasm');
		if (!ok) {
			return { ok, simd: null, error };
		}
		const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
		return { ok, simd, error: null };
	} catch (e) {
		return { ok: false, simd: null, error: e instanceof Error ? e.message : String(e) };
	}
}

interface MinimalAdapter {
	readonly isFallbackAdapter?: boolean;
	readonly info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean };
}
interface MinimalGpu {
	requestAdapter(options?: Record<string, unknown>): Promise<MinimalAdapter | null>;
}

function isMinimalGpu(v: unknown): v is MinimalGpu {
	return typeof v === 'object' && v !== null && typeof (v as { requestAdapter?: unknown }).requestAdapter === 'function';
}

let gpuObject: MinimalGpu | undefined;

/** What the adapter probe found: an adapter (with its info), or why there is none. */
export type AdapterProbe = { readonly found: true; readonly adapter: GpuAdapterInfo } | { readonly found: false; readonly reason: string };

let adapterProbe: Promise<AdapterProbe> | undefined;

// Runs in a child Node process: loads Dawn, asks for an adapter, prints one JSON line, exits.
const PROBE_SCRIPT = `
const m = require(process.argv[1]);
const gpu = m.create(JSON.parse(process.argv[2]));
gpu.requestAdapter({ powerPreference: 'high-performance' }).then((a) => {
	const i = (a && a.info) || {};
	const out = a ? { found: true, adapter: { vendor: i.vendor || '', architecture: i.architecture || '', device: i.device || '', description: i.description || '',
		isFallbackAdapter: a.isFallbackAdapter === true || i.isFallbackAdapter === true } } : { found: false };
	process.stdout.write('\\n' + JSON.stringify(out) + '\\n', () => process.exit(0));
}, (e) => { process.stdout.write('\\n' + JSON.stringify({ found: false, error: String(e && e.message || e) }) + '\\n', () => process.exit(0)); });
`;

/** The first line of Dawn's native diagnostics, without its source location (`at operator() (…BackendVk.cpp:368)`). */
export function dawnDiagnostic(stderr: string): string | null {
	const line = stderr
		.split('\n')
		.map((l) => l.trim())
		.find((l) => l.length > 0 && !l.startsWith('at '));
	return line === undefined ? null : line.replace(/^Warning:\s*/, '');
}

/**
 * Asks Dawn for a WebGPU adapter in a short child process, so that Dawn's native diagnostics (e.g. "Couldn't load
 * Vulkan: libvulkan.so.1 … at operator() (…/BackendVk.cpp:368)", written straight to file descriptor 2) never reach
 * the user's terminal; the first of them becomes part of the reason instead. Probed once per process.
 */
export function probeWebgpuAdapter(dawnOptions: readonly string[] = []): Promise<AdapterProbe> {
	adapterProbe ??= new Promise<AdapterProbe>((resolve) => {
		let modulePath: string;
		try {
			modulePath = require.resolve('webgpu');
		} catch (e) {
			resolve({ found: false, reason: `the 'webgpu' package is not installed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` });
			return;
		}
		const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
		execFile(process.execPath, ['-e', PROBE_SCRIPT, modulePath, JSON.stringify(dawnOptions)], { env, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
			const last = stdout.trim().split('\n').pop() ?? '';
			let parsed: { found?: boolean; adapter?: GpuAdapterInfo; error?: string } = {};
			try {
				parsed = JSON.parse(last) as typeof parsed;
			} catch {
				// no answer: the child crashed or timed out
			}
			if (parsed.found === true && parsed.adapter !== undefined) {
				resolve({ found: true, adapter: Object.freeze({ ...parsed.adapter }) });
				return;
			}
			const dawn = dawnDiagnostic(stderr);
			const why = parsed.error ?? dawn ?? (err ? `the probe failed: ${err.message.split('\n')[0]}` : null);
			resolve({
				found: false,
				reason: `no WebGPU adapter${why === null ? '' : ` (${why})`}; Dawn needs a Vulkan, Metal or D3D12 device (on Linux without a GPU, Mesa's lavapipe ≥ 25 is a software one)`,
			});
		});
	});
	return adapterProbe;
}

async function startWebgpu(options: SelectBackendOptions): Promise<{ ok: boolean; adapter: GpuAdapterInfo | null; error: string | null }> {
	try {
		if (gpuObject === undefined) {
			// Ask in a child process first: loading Dawn here with no adapter would print its native warnings.
			const probe = await probeWebgpuAdapter(options.dawnOptions);
			if (!probe.found) {
				return { ok: false, adapter: null, error: probe.reason };
			}
			const mod: unknown = await import('webgpu');
			const m = mod as { create?: unknown; globals?: unknown };
			if (typeof m.create !== 'function') {
				return { ok: false, adapter: null, error: "the 'webgpu' package has no create()" };
			}
			const gpu: unknown = (m.create as (o: string[]) => unknown)([...(options.dawnOptions ?? [])]);
			if (!isMinimalGpu(gpu)) {
				return { ok: false, adapter: null, error: "the 'webgpu' package's create() returned no GPU object" };
			}
			if (typeof m.globals === 'object' && m.globals !== null) {
				Object.assign(globalThis, m.globals);
			}
			// Node 20 has no navigator; Node 21+ has a read-only getter, so define rather than assign.
			const nav: Record<string, unknown> = (globalThis as { navigator?: Record<string, unknown> }).navigator ?? {};
			Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
			Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, enumerable: true, writable: true });
			gpuObject = gpu;
		}
		const adapter = await gpuObject.requestAdapter({ powerPreference: 'high-performance' });
		if (adapter === null) {
			return {
				ok: false,
				adapter: null,
				error: 'no WebGPU adapter (Dawn found no Vulkan/Metal/D3D12 device; on Linux without a GPU run scripts/install-gpu-sw.sh for Mesa lavapipe 25)',
			};
		}
		const raw = adapter.info ?? {};
		const info: GpuAdapterInfo = Object.freeze({
			vendor: raw.vendor ?? '',
			architecture: raw.architecture ?? '',
			device: raw.device ?? '',
			description: raw.description ?? '',
			isFallbackAdapter: adapter.isFallbackAdapter === true || raw.isFallbackAdapter === true,
		});
		if (/null/i.test(info.description) || /null/i.test(info.vendor)) {
			return { ok: false, adapter: info, error: `refusing Dawn's null adapter (${info.description}): it computes nothing` };
		}
		// Imported only now: the backend registers itself only if navigator.gpu already exists.
		await import('@tensorflow/tfjs-backend-webgpu');
		const { ok, error } = await trySetBackend('webgpu');
		return { ok, adapter: ok ? info : null, error };
	} catch (e) {
		return { ok: false, adapter: null, error: e instanceof Error ? e.message : String(e) };
	}
}

/**
 * Looks for an installed `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`.
 * Returns the package name found, or null. Never loads the package.
 */
export function detectTensorflowNode(resolvePaths?: readonly string[]): string | null {
	for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
		try {
			require.resolve(name, resolvePaths === undefined ? undefined : { paths: [...resolvePaths] });
			return name;
		} catch {
			// try the next one
		}
	}
	return null;
}

/** The message shown when `tensorflow` is requested but neither tfjs-node package is installed. */
export const TENSORFLOW_ABSENT_MESSAGE =
	"backend 'tensorflow' needs @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1) or @tensorflow/tfjs-node installed next to Poison Lens " +
	'(npm install @tensorflow/tfjs-node-gpu@4.22.0); neither was found. This path is unverified; use --backend gpu (WebGPU) or wasm instead.';

async function startTensorflow(options: SelectBackendOptions): Promise<{ ok: boolean; error: string | null }> {
	const pkg = detectTensorflowNode(options.resolvePaths);
	if (pkg === null) {
		return { ok: false, error: TENSORFLOW_ABSENT_MESSAGE };
	}
	try {
		const resolved = require.resolve(pkg, options.resolvePaths === undefined ? undefined : { paths: [...options.resolvePaths] });
		await import(resolved);
	} catch (e) {
		return { ok: false, error: `${pkg} is installed but failed to load: ${e instanceof Error ? e.message : String(e)}` };
	}
	return trySetBackend('tensorflow');
}

function describe(name: string, simd: boolean | null, adapter: GpuAdapterInfo | null): string {
	if (name === 'wasm') {
		return simd === true ? 'wasm (SIMD)' : 'wasm (no SIMD)';
	}
	if (name === 'webgpu' && adapter !== null) {
		const label = adapter.description || adapter.device || adapter.vendor || 'unknown adapter';
		return `webgpu: ${label}${adapter.isFallbackAdapter ? ' (software)' : ''}`;
	}
	return name;
}

function record(
	requested: BackendRequest,
	simd: boolean | null,
	adapter: GpuAdapterInfo | null,
	fallbackReason: string | null,
): BackendSelection {
	const name = tf.getBackend();
	return Object.freeze({
		requested,
		name,
		simd: name === 'wasm' ? simd : null,
		adapter: name === 'webgpu' ? adapter : null,
		fallbackReason,
		description: describe(name, simd, adapter),
	});
}

/**
 * One line for a terminal or a log saying which backend runs and why, e.g. "wasm (SIMD)", "webgpu: NVIDIA H100 (auto)"
 * or "wasm (SIMD), chosen by auto: no WebGPU adapter (…)".
 */
export function backendSummary(sel: BackendSelection): string {
	if (sel.fallbackReason === null) {
		return sel.requested === 'auto' ? `${sel.description} (auto)` : sel.description;
	}
	const why = sel.fallbackReason.replace(/^gpu: /, '');
	return sel.requested === 'auto' ? `${sel.description}, chosen by auto: ${why}` : `${sel.description}, not ${sel.requested}: ${why}`;
}

/**
 * Silences TensorFlow.js's "Hi, looks like you are running TensorFlow.js in Node.js … install our node backend"
 * banner, which its cpu backend prints on its first tensor in Node. Poison Lens calls this only where it chose the
 * backend on purpose ({@link selectBackend}: the analyser, the CLI, the demo, the benches); the SDK never does, so a
 * training script's own tfjs keeps its defaults. Only that banner is affected (other tfjs warnings still print).
 */
export function quietNodeBanner(): void {
	try {
		const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
		if (cpu !== null && typeof cpu.firstUse === 'boolean') {
			cpu.firstUse = false;
		}
	} catch {
		// no cpu backend registered: nothing to silence
	}
}

/**
 * Selects a tfjs backend and reports the one actually in use.
 *
 * - `wasm`: SIMD build, single thread (the embedded default).
 * - `cpu`: plain JS; slow but always present.
 * - `gpu`: `@tensorflow/tfjs-backend-webgpu` on the npm `webgpu` package (Dawn).
 * - `tensorflow`: an installed `@tensorflow/tfjs-node-gpu` / `tfjs-node` (unverified path).
 * - `auto`: gpu when a hardware adapter exists, else wasm, else cpu. A software adapter (Mesa llvmpipe/lavapipe,
 *   SwiftShader: `isFallbackAdapter`) is skipped: it is 10-20× slower than wasm here (docs/numerics.md), so `auto`
 *   uses it only when asked for explicitly with `gpu`.
 *
 * When the request cannot start, falls back (gpu/tensorflow → wasm → cpu) and records why in
 * `fallbackReason`; with `strict: true` it throws that reason instead.
 */
export async function selectBackend(request: BackendRequest, options: SelectBackendOptions = {}): Promise<BackendSelection> {
	if (!BACKEND_REQUESTS.includes(request)) {
		throw new Error(`unknown backend '${String(request)}'; expected one of ${BACKEND_REQUESTS.join(', ')}`);
	}
	const reasons: string[] = [];
	const fail = (reason: string): void => {
		if (options.strict === true) {
			throw new Error(`backend '${request}' unavailable: ${reason}`);
		}
		reasons.push(reason);
	};
	const reason = (): string | null => (reasons.length > 0 ? reasons.join('; ') : null);

	if (request === 'cpu') {
		quietNodeBanner();
		const r = await trySetBackend('cpu');
		if (!r.ok) {
			throw new Error(`backend 'cpu' failed: ${r.error ?? 'unknown error'}`);
		}
		return record(request, null, null, null);
	}
	quietNodeBanner();
	if (request === 'auto' && gpuObject === undefined) {
		// A software adapter is skipped by auto: find out in the child probe, without loading Dawn here.
		const p = await probeWebgpuAdapter(options.dawnOptions);
		if (p.found && p.adapter.isFallbackAdapter) {
			reasons.push(`gpu: only a software adapter (${describe('webgpu', null, p.adapter)}), slower than wasm`);
		}
	}
	if ((request === 'gpu' || request === 'auto') && reasons.length === 0) {
		const g = await startWebgpu(options);
		if (g.ok && !(request === 'auto' && g.adapter?.isFallbackAdapter === true)) {
			return record(request, null, g.adapter, null);
		}
		if (g.ok) {
			reasons.push(`gpu: only a software adapter (${describe('webgpu', null, g.adapter)}), slower than wasm`);
		} else if (request === 'gpu') {
			fail(`gpu: ${g.error ?? 'unknown error'}`);
		} else {
			reasons.push(`gpu: ${g.error ?? 'unknown error'}`);
		}
	}
	if (request === 'tensorflow') {
		const t = await startTensorflow(options);
		if (t.ok) {
			return record(request, null, null, null);
		}
		fail(`tensorflow: ${t.error ?? 'unknown error'}`);
	}
	const w = await startWasm(options);
	if (w.ok) {
		// For 'auto' the record keeps why the gpu was not taken (informational).
		return record(request, w.simd, null, request === 'wasm' ? null : reason());
	}
	if (request === 'wasm') {
		fail(`wasm: ${w.error ?? 'unknown error'}`);
	} else {
		reasons.push(`wasm: ${w.error ?? 'unknown error'}`);
	}
	const c = await trySetBackend('cpu');
	if (!c.ok) {
		throw new Error(`no backend could start: ${[...reasons, `cpu: ${c.error ?? 'unknown error'}`].join('; ')}`);
	}
	return record(request, null, null, reason());
}
