/**
 * Markdown summaries for a CI job summary (`--summary md`; GitHub Actions shows `$GITHUB_STEP_SUMMARY` on the run
 * page). Pure: the CLI decides where the text goes.
 */
import type { Problem, Severity } from '../datasets/problem';
import type { CheckpointAnalysis } from '../protocol/analysisRecord';
import type { AnalysisFacts } from './sarif';
import { verdictExplanation, verdictHeadline } from './verdictText';

/** Escapes text for a Markdown table cell (pipes, newlines, HTML brackets, backticks). */
export function mdCell(text: string): string {
	return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, '\\`').replace(/\r?\n/g, ' ');
}

function pct(v: number | null | undefined): string {
	return v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`;
}

function num(v: number | null | undefined): string {
	if (v === null || v === undefined) {
		return '–';
	}
	return v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4) ? v.toExponential(2) : v.toFixed(3);
}

/** The Markdown summary of a run's analysis. */
export function analysisSummaryMd(f: AnalysisFacts, records: readonly CheckpointAnalysis[], opts: { failed: boolean; failOn: readonly string[]; maxRows?: number }): string {
	const lines: string[] = [];
	const mark = f.verdict === 'clean' ? '✅' : f.verdict === 'early-warning' ? '⚠️' : '❌';
	lines.push(`### ${mark} Poison Lens: ${mdCell(f.runName)} — \`${f.verdict}\``);
	lines.push('');
	const detail = { nearClone: f.nearClone, blindTest: f.blind?.test ?? null };
	lines.push(`**${verdictHeadline(f.verdict, f.declaredAttack, detail)}.** ${verdictExplanation(f.verdict, detail)}`);
	lines.push('');
	if (opts.failOn.length > 0) {
		lines.push(opts.failed ? `This step fails: the verdict is one of \`--fail-on ${opts.failOn.join(',')}\`.` : `Gate \`--fail-on ${opts.failOn.join(',')}\`: passed.`);
		lines.push('');
	}
	lines.push('| | |');
	lines.push('|---|---|');
	lines.push(`| checkpoints analysed | ${f.checkpoints}${f.errors.length > 0 ? ` (${f.errors.length} with errors)` : ''} |`);
	if (f.declaredAttack) {
		lines.push(`| final excess attack success | ${pct(f.finalExcessAsr)} |`);
		lines.push(`| signed lag (spectral − ASR step) | ${f.lag.lagSteps === null ? '–' : `${f.lag.lagSteps} steps${f.lag.lagEpochs === null ? '' : ` (${f.lag.lagEpochs.toFixed(2)} epochs)`}`} |`);
	}
	const b = f.blind;
	if (b !== null) {
		lines.push(`| blind-mode suspects | ${b.suspects ?? '–'} |`);
		lines.push(`| candidate trigger flips | ${pct(b.flipRate)} of clean probes${b.flipClass === null || b.flipClass === undefined ? '' : ` to class ${b.flipClass}`} |`);
		const t = b.test;
		if (t !== undefined) {
			lines.push(`| blind test | \`${t.state}\`: score ${pct(t.score)}, null band ${pct(t.nullLow)}–${pct(t.nullHigh)} (${t.nullSize} draws) |`);
			lines.push(`| why | ${mdCell(t.reason)} |`);
		}
	}
	lines.push(`| manifest | \`${mdCell(decodeURIComponent(f.manifestUri))}\` |`);
	lines.push('');
	const usable = records.filter((r) => r.error === null).sort((a, c) => a.step - c.step);
	const maxRows = opts.maxRows ?? 12;
	if (usable.length > 0) {
		const shown = usable.length > maxRows ? usable.slice(usable.length - maxRows) : usable;
		lines.push(`<details><summary>Checkpoints (${usable.length > maxRows ? `newest ${maxRows} of ${usable.length}` : usable.length})</summary>`);
		lines.push('');
		lines.push('| step | epoch | clean acc | ASR | excess ASR | λ1 | cos²(v1, t) |');
		lines.push('|---:|---:|---:|---:|---:|---:|---:|');
		for (const r of shown) {
			lines.push(`| ${r.step} | ${r.epoch.toFixed(2)} | ${pct(r.cleanAccuracy)} | ${pct(r.asr)} | ${pct(r.excessAsr)} | ${num(r.topEigenvalues?.[0])} | ${num(r.triggerOverlap)} |`);
		}
		lines.push('');
		lines.push('</details>');
		lines.push('');
	}
	for (const e of f.errors.slice(0, 10)) {
		lines.push(`- checkpoint ${e.step}: ${mdCell(e.error)}`);
	}
	if (f.errors.length > 0) {
		lines.push('');
	}
	return `${lines.join('\n')}\n`;
}

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'information'];

/** The Markdown summary of a dataset scan. */
export function scanSummaryMd(
	file: string,
	rows: number,
	problems: readonly Problem[],
	totalProblems: number,
	opts: { failed: boolean; failOn: string; maxRows?: number },
): string {
	const findings = problems.filter((p) => p.code !== 'problem-cap');
	const count = (s: Severity): number => findings.filter((p) => p.severity === s).length;
	const mark = count('error') > 0 ? '❌' : count('warning') > 0 ? '⚠️' : '✅';
	const lines: string[] = [];
	lines.push(`### ${mark} Poison Lens scan: \`${mdCell(file)}\``);
	lines.push('');
	lines.push(
		`${rows} rows, ${totalProblems} finding${totalProblems === 1 ? '' : 's'}: ${SEVERITIES.map((s) => `${count(s)} ${s}`).join(', ')}` +
			`${totalProblems > findings.length ? ` (the first ${findings.length} listed)` : ''}.` +
			` Gate \`--fail-on ${opts.failOn}\`: ${opts.failed ? '**failed**' : 'passed'}.`,
	);
	lines.push('');
	const byCode = new Map<string, number>();
	for (const p of findings) {
		byCode.set(p.code, (byCode.get(p.code) ?? 0) + 1);
	}
	if (byCode.size > 0) {
		lines.push('| code | findings |');
		lines.push('|---|---:|');
		for (const [code, n] of [...byCode].sort((a, c) => c[1] - a[1] || (a[0] < c[0] ? -1 : 1))) {
			lines.push(`| \`${code}\` | ${n} |`);
		}
		lines.push('');
		const maxRows = opts.maxRows ?? 30;
		const rank: Record<Severity, number> = { error: 0, warning: 1, information: 2 };
		const shown = [...findings].sort((a, c) => rank[a.severity] - rank[c.severity] || a.line - c.line).slice(0, maxRows);
		lines.push(`<details><summary>Findings (${shown.length < findings.length ? `first ${shown.length} of ${findings.length}` : findings.length})</summary>`);
		lines.push('');
		lines.push('| line | severity | code | message |');
		lines.push('|---:|---|---|---|');
		for (const p of shown) {
			lines.push(`| ${p.line} | ${p.severity} | \`${p.code}\` | ${mdCell(p.message)}${p.related.length > 0 ? ` (partners: ${p.related.slice(0, 5).join(', ')}${p.related.length > 5 ? ', …' : ''})` : ''} |`);
		}
		lines.push('');
		lines.push('</details>');
		lines.push('');
	}
	return `${lines.join('\n')}\n`;
}
