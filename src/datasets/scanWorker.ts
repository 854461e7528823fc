/**
 * Worker-thread entry (bundled to dist/scanWorker.js): scans a dataset off the extension host's thread, so a 100 MB
 * CSV never stalls the editor. Posts progress at most every 100 ms, then the capped result.
 *
 * A large CSV without quote characters is parsed by two threads: every line break is then a record boundary, so this
 * worker fixes the schema from the first records, hands the second half to a helper worker (this same script, sent a
 * `part` message) and parses the first half meanwhile; only on machines with 4 or more cores, since on 2 cores the
 * extension host's thread needs the other one. Anything else is parsed here alone.
 */
import * as os from 'node:os';
import { Worker, parentPort } from 'node:worker_threads';
import { finishCsv, parseCsvPart, planCsv, stripBom } from './csvReader';
import type { CsvPart } from './csvReader';
import { finishScan, prepareText, readDataset, withProblems } from './scan';
import { decodeDatasetBytes } from './textInput';
import { readRegularFileSync } from '../protocol/safeFile';
import type { Problem } from './problem';
import type { ScanResult } from './scan';
import { isPartReply, isPartRequest, isScanRequest } from '../protocol/scan';
import type { PartReply, PartRequest, ScanReply, ScanRequest } from '../protocol/scan';
import type { ProgressFn } from './table';

const PARALLEL_MIN_CHARS = 16_000_000;
const PARALLEL_MIN_CORES = 4;

function post(reply: ScanReply | PartReply, transfer: ArrayBuffer[] = []): void {
	parentPort?.postMessage(reply, transfer);
}

/** Parses the second half in a helper worker; resolves with its rows. */
function parseInHelper(helperPath: string, req: PartRequest): Promise<CsvPart> {
	return new Promise<CsvPart>((resolve, reject) => {
		const helper = new Worker(helperPath);
		let done = false;
		const finish = (fn: () => void): void => {
			if (!done) {
				done = true;
				void helper.terminate();
				fn();
			}
		};
		helper.on('message', (msg: unknown) => {
			if (isPartReply(msg)) {
				finish(() => (msg.kind === 'partResult' ? resolve(msg.part) : reject(new Error(msg.message))));
			}
		});
		helper.on('error', (e) => finish(() => reject(e)));
		helper.on('exit', (code) => finish(() => reject(new Error(`parse helper exited with code ${code}`))));
		helper.postMessage(req);
	});
}

/** The two-thread parse, or null when the file does not qualify. */
async function scanInTwoThreads(req: ScanRequest, text: string, progress: ProgressFn, before: Problem[]): Promise<ScanResult | null> {
	const lower = req.fileName.toLowerCase();
	if (req.helperPath === undefined || lower.endsWith('.jsonl') || lower.endsWith('.ndjson')
		|| text.length < (req.parallelMinChars ?? PARALLEL_MIN_CHARS) || os.availableParallelism() < (req.parallelMinCores ?? PARALLEL_MIN_CORES)) {
		return null;
	}
	const t0 = performance.now();
	const src = stripBom(text);
	if (src.indexOf('"') !== -1) {
		return null;
	}
	const plan = planCsv(src, req.fileName, req.options);
	const schema = plan.schema;
	const mid = src.indexOf('\n', src.length >> 1) + 1;
	if (schema === null || mid <= 0 || mid >= src.length) {
		return null;
	}
	const withSchema = { ...plan, schema };
	let baseLine = 1;
	for (let i = src.indexOf('\n'); i !== -1 && i < mid; i = src.indexOf('\n', i + 1)) {
		baseLine++;
	}
	const second = parseInHelper(req.helperPath, { kind: 'part', id: req.id, text: src.slice(mid), plan: withSchema, baseLine, baseOffset: mid });
	// Keep a rejection from being reported as unhandled while the first half is still parsing.
	second.catch(() => undefined);
	const first = parseCsvPart(src.slice(0, mid), withSchema, 1, 0, schema.hasHeader, (f, phase) => progress(0.55 * f, phase));
	const parsed = finishCsv(src, withSchema, [first, await second], req.options);
	return { ...finishScan(withProblems(parsed, before), req.fileName, req.options, progress, t0), parseThreads: 2 };
}

/** Runs one request; exported for tests that call it without a thread. */
export async function handleRequest(req: ScanRequest, send: (reply: ScanReply) => void): Promise<void> {
	const t0 = performance.now();
	try {
		const bytes = 'path' in req.source ? readRegularFileSync(req.source.path) : req.source.bytes;
		const decoded = decodeDatasetBytes(bytes);
		const pre = prepareText(decoded.text, req.options);
		const text = pre.text;
		const before = [...decoded.problems, ...pre.problems];
		let lastPost = 0;
		const progress: ProgressFn = (fraction, phase) => {
			const now = Date.now();
			if (now - lastPost >= 100) {
				lastPost = now;
				send({ kind: 'progress', id: req.id, fraction, phase });
			}
		};
		const result = await scanInTwoThreads(req, text, progress, before) ?? finishScan(
			withProblems(readDataset(text, req.fileName, req.options, (f, phase) => progress(0.6 * f, phase)), before), req.fileName, req.options, progress, t0);
		send({ kind: 'result', id: req.id, result });
	} catch (e) {
		send({ kind: 'error', id: req.id, message: `${req.fileName}: ${e instanceof Error ? e.message : String(e)}` });
	}
}

function handlePart(req: PartRequest): void {
	try {
		const part = parseCsvPart(req.text, req.plan, req.baseLine, req.baseOffset, false);
		const transfer = [part.features.buffer, part.valid.buffer, part.startLine.buffer, part.endLine.buffer, part.endColumn.buffer,
			part.recStart.buffer, part.recEnd.buffer] as ArrayBuffer[];
		post({ kind: 'partResult', id: req.id, part }, transfer);
	} catch (e) {
		post({ kind: 'error', id: req.id, message: `parse helper: ${e instanceof Error ? e.message : String(e)}` });
	}
}

parentPort?.on('message', (msg: unknown) => {
	if (isScanRequest(msg)) {
		void handleRequest(msg, post);
	} else if (isPartRequest(msg)) {
		handlePart(msg);
	}
});
