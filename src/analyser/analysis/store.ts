/**
 * `<run>/analysis.jsonl`: the only file the analyser writes in a run folder. Lines are appended
 * (one `write` per line, so a concurrent reader sees whole lines or nothing new), never rewritten.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
	ANALYSIS_FILE,
	parseAnalysisFile,
	type AnalysisLine,
	type CheckpointAnalysis,
	type RunAnalysisSummary,
} from '../../protocol/analysisRecord';
import { AnalyserErrorCode } from '../../protocol/analyser';
import { fileFault, readRegularFile } from '../../protocol/safeFile';
import { AnalysisError } from './errors';

/** A summary line as this analyser writes it: the record plus the newest step it covered. */
export type StoredSummary = RunAnalysisSummary & {
	/** Newest checkpoint step the summary (and its blind scan) covered. */
	readonly analysedThroughStep?: number | null;
	/** Checkpoint step the blind scan used. */
	readonly blindStep?: number | null;
};

/**
 * What an error record remembers about its cause, so a rerun can tell whether retrying makes sense: the error's
 * kind (its code name), the backend that produced it, and a stamp (sizes and modification times) of the inputs.
 */
export interface ErrorContext {
	readonly errorKind: string;
	readonly backend: string | null;
	readonly inputStamp: string | null;
}

/** What analysis.jsonl already holds. */
export interface StoredAnalysis {
	/** Latest record per step. */
	readonly byStep: ReadonlyMap<number, CheckpointAnalysis>;
	/** For the latest record per step that is an error: what it recorded about its cause (absent for older files). */
	readonly errorContext: ReadonlyMap<number, ErrorContext>;
	readonly summary: StoredSummary | null;
	/** Malformed lines (file:line: what); they are skipped. */
	readonly problems: readonly string[];
}

/** The error kind of a record text "Kind: message" (the analyser's code name), or "Internal". */
export function errorKindOf(error: string): string {
	const m = /^([A-Za-z]+): /.exec(error);
	return m === null ? 'Internal' : m[1];
}

/** Reads analysis.jsonl (missing file: empty). Malformed lines are reported, not fatal. */
export async function readStoredAnalysis(runDir: string): Promise<StoredAnalysis> {
	const file = path.join(runDir, ANALYSIS_FILE);
	let text: string;
	try {
		text = (await readRegularFile(file)).toString('utf8');
	} catch (err) {
		const f = fileFault(err, 'read', file);
		if (f.kind === 'missing') {
			return { byStep: new Map(), errorContext: new Map(), summary: null, problems: [] };
		}
		throw new AnalysisError(AnalyserErrorCode.RunFormat, f.message);
	}
	const parsed = parseAnalysisFile(text, file);
	const byStep = new Map<number, CheckpointAnalysis>();
	for (const c of parsed.checkpoints) {
		byStep.set(c.step, c);
	}
	// The shared parser drops fields it does not know; recover ours from the raw lines.
	const errorContext = new Map<number, ErrorContext>();
	let lastSummary: Record<string, unknown> | undefined;
	for (const line of text.split('\n')) {
		if (!line.includes('"summary"') && !line.includes('"checkpoint"')) {
			continue;
		}
		let raw: Record<string, unknown>;
		try {
			raw = JSON.parse(line) as Record<string, unknown>;
		} catch {
			continue; // already reported by parseAnalysisFile
		}
		if (raw.kind === 'summary') {
			lastSummary = raw;
		} else if (raw.kind === 'checkpoint' && typeof raw.step === 'number') {
			if (typeof raw.error === 'string') {
				errorContext.set(raw.step, {
					errorKind: typeof raw.errorKind === 'string' ? raw.errorKind : errorKindOf(raw.error),
					backend: typeof raw.backend === 'string' ? raw.backend : null,
					inputStamp: typeof raw.inputStamp === 'string' ? raw.inputStamp : null,
				});
			} else {
				errorContext.delete(raw.step);
			}
		}
	}
	let summary: StoredSummary | null = parsed.summary;
	if (summary !== null && lastSummary !== undefined) {
		summary = {
			...summary,
			analysedThroughStep: typeof lastSummary.analysedThroughStep === 'number' ? lastSummary.analysedThroughStep : null,
			blindStep: typeof lastSummary.blindStep === 'number' ? lastSummary.blindStep : null,
		};
	}
	return { byStep, errorContext, summary, problems: parsed.problems };
}

/** Largest partial last line looked at when repairing (a record is far smaller). */
const MAX_TAIL_SCAN = 64 * 1024 * 1024;

/**
 * Appends one line to analysis.jsonl (creating it) with a single write. When the file ends in a partial line (a
 * write cut short by a full disk or a kill), that fragment is first moved to `analysis.jsonl.corrupt` (appended
 * there, so nothing is lost) and cut from the file, so the new record never glues onto it.
 * @returns the number of bytes of a repaired fragment (0 when the file was whole)
 * @throws AnalysisError naming the file and the OS reason (no stack trace) when it cannot be written
 */
export async function appendAnalysisLine(runDir: string, line: AnalysisLine | StoredSummary | (CheckpointAnalysis & Partial<ErrorContext>)): Promise<number> {
	const file = path.join(runDir, ANALYSIS_FILE);
	const record = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
	let handle: fs.promises.FileHandle;
	try {
		handle = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND | (fs.constants.O_NONBLOCK ?? 0), 0o644);
	} catch (err) {
		throw new AnalysisError(AnalyserErrorCode.Internal, fileFault(err, 'append to', file).message);
	}
	let repaired = 0;
	try {
		const st = await handle.stat();
		if (!st.isFile()) {
			throw new AnalysisError(AnalyserErrorCode.Internal, `${file}: cannot append to: not a regular file`);
		}
		if (st.size > 0) {
			const last = Buffer.alloc(1);
			await handle.read(last, 0, 1, st.size - 1);
			if (last[0] !== 0x0a) {
				const span = Math.min(st.size, MAX_TAIL_SCAN);
				const tail = Buffer.alloc(span);
				await handle.read(tail, 0, span, st.size - span);
				const nl = tail.lastIndexOf(0x0a);
				const fragment = tail.subarray(nl + 1);
				const cut = st.size - fragment.length;
				const note = Buffer.from(`${JSON.stringify({ repairedAt: new Date().toISOString(), offset: cut, bytes: fragment.length })}\n`);
				await fs.promises.appendFile(`${file}.corrupt`, Buffer.concat([note, fragment, Buffer.from('\n')]));
				await handle.truncate(cut);
				repaired = fragment.length;
			}
		}
		let written = 0;
		while (written < record.length) {
			const r = await handle.write(record, written, record.length - written);
			written += r.bytesWritten;
		}
	} catch (err) {
		if (err instanceof AnalysisError) {
			throw err;
		}
		throw new AnalysisError(AnalyserErrorCode.Internal, fileFault(err, 'append to', file).message);
	} finally {
		await handle.close();
	}
	return repaired;
}
