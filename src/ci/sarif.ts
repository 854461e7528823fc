/**
 * SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) from dataset findings and from a run's analysis,
 * for code-scanning uploads (`poison-lens scan|analyse --format sarif`). Pure: no I/O, no `vscode`.
 *
 * Scan findings map one to one: rule = problem code, level = severity (information → note), location = the dataset
 * file with 1-based line and column. An analysis yields one result for a non-clean verdict, one for blind-mode
 * suspects, and one per checkpoint that failed to analyse, all located at the run's manifest.json.
 */
import type { Problem, ProblemCodeValue, Severity } from '../datasets/problem';
import { ProblemCode } from '../datasets/problem';
import type { BlindSummary, SignedLag, Verdict } from '../protocol/analysisRecord';
import { verdictHeadline } from './verdictText';

/** The SARIF version and the schema URI the logs declare. */
export const SARIF_VERSION = '2.1.0';
export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** SARIF result levels. */
export type SarifLevel = 'error' | 'warning' | 'note' | 'none';

/** The subset of the SARIF object model this module writes. */
export interface SarifRule {
	readonly id: string;
	readonly name: string;
	readonly shortDescription: { readonly text: string };
	readonly fullDescription: { readonly text: string };
	readonly help: { readonly text: string; readonly markdown: string };
	readonly defaultConfiguration: { readonly level: SarifLevel };
	readonly properties: { readonly tags: readonly string[] };
}

export interface SarifResult {
	readonly ruleId: string;
	readonly ruleIndex: number;
	readonly level: SarifLevel;
	readonly message: { readonly text: string };
	readonly locations: readonly {
		readonly physicalLocation: {
			readonly artifactLocation: { readonly uri: string; readonly uriBaseId?: string };
			readonly region?: { readonly startLine: number; readonly startColumn?: number; readonly endLine?: number; readonly endColumn?: number };
		};
	}[];
	readonly relatedLocations?: readonly {
		readonly id: number;
		readonly message: { readonly text: string };
		readonly physicalLocation: { readonly artifactLocation: { readonly uri: string; readonly uriBaseId?: string }; readonly region: { readonly startLine: number } };
	}[];
	readonly partialFingerprints?: Readonly<Record<string, string>>;
	readonly properties?: Readonly<Record<string, unknown>>;
}

export interface SarifLog {
	readonly $schema: string;
	readonly version: '2.1.0';
	readonly runs: readonly {
		readonly tool: { readonly driver: { readonly name: string; readonly version: string; readonly semanticVersion: string; readonly rules: readonly SarifRule[] } };
		readonly originalUriBaseIds?: Readonly<Record<string, { readonly uri: string }>>;
		readonly invocations: readonly { readonly executionSuccessful: boolean; readonly commandLine?: string }[];
		readonly results: readonly SarifResult[];
		readonly properties?: Readonly<Record<string, unknown>>;
	}[];
}

/** What a rule says about itself: a title, what it means, and what to do. */
interface RuleText {
	readonly name: string;
	readonly short: string;
	readonly full: string;
	readonly help: string;
	readonly level: SarifLevel;
	readonly tags: readonly string[];
}

/** Help for every dataset problem code (the codes are stable; see src/datasets/problem.ts). */
const SCAN_RULES: Readonly<Record<ProblemCodeValue, RuleText>> = {
	[ProblemCode.raggedRow]: {
		name: 'RaggedRow',
		short: 'A record has a different number of fields from the header.',
		full: 'A CSV/TSV record has more or fewer fields than the header (or the first records), so its values land in the wrong columns.',
		help: 'Fix the record (a missing or extra delimiter, often an unquoted comma) or remove it; the training loader would otherwise shift its features or drop it.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.badQuote]: {
		name: 'BadQuote',
		short: 'A quoted field is unterminated or has text after its closing quote.',
		full: 'A quoted CSV field does not close, or text follows its closing quote; everything after it may be read as one field.',
		help: 'Close the quote or escape inner quotes by doubling them (""), as RFC 4180 requires.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.invalidJson]: {
		name: 'InvalidJson',
		short: 'A JSONL line is not valid JSON.',
		full: 'A line of a JSON Lines file does not parse as JSON.',
		help: 'Fix the line so it is one JSON object, or remove it.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.invalidRecord]: {
		name: 'InvalidRecord',
		short: 'A JSONL line is not an object with the expected keys.',
		full: 'A JSON Lines record is valid JSON but not an object with the keys the other records have.',
		help: 'Give the record the same keys as the others, or remove it.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.missingLabel]: {
		name: 'MissingLabel',
		short: 'The label field is empty or absent.',
		full: 'A row has no label, so it cannot be trained on as a supervised example.',
		help: 'Label the row or remove it; unlabeled rows are often parsed as a default class.',
		level: 'error',
		tags: ['labels'],
	},
	[ProblemCode.unknownLabel]: {
		name: 'UnknownLabel',
		short: 'The label is not one of the known labels.',
		full: 'The label is neither one of the configured labels nor a value the rest of the column uses.',
		help: 'Correct a typo in the label, or add the label to poisonLens.dataset.labels (--labels in CI) when it is legitimate.',
		level: 'warning',
		tags: ['labels'],
	},
	[ProblemCode.missingValue]: {
		name: 'MissingValue',
		short: 'A numeric feature field is empty.',
		full: 'A feature column that holds numbers elsewhere is empty in this row.',
		help: 'Fill the value or drop the row; loaders usually read an empty field as 0 or NaN.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.nonNumeric]: {
		name: 'NonNumeric',
		short: 'A numeric feature field is not a number.',
		full: 'A feature column that holds numbers elsewhere has text in this row.',
		help: 'Fix the value; a text cell in a numeric column becomes NaN in a tensor.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.nonFinite]: {
		name: 'NonFinite',
		short: 'A numeric feature field is NaN or infinite.',
		full: 'A feature value is NaN or ±Infinity, which poisons every gradient it touches.',
		help: 'Replace the value with a finite one or drop the row.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.dirtyLabelDuplicate]: {
		name: 'DirtyLabelDuplicate',
		short: 'Rows with identical features carry different labels.',
		full: 'This row has exactly the features of other rows but a label that disagrees with them: the signature of a dirty-label poisoning attack or of a labelling error.',
		help: 'Compare the row with its partners (the related locations). Keep the correct label, or remove the copies; relabelled copies of real inputs are a classic poisoning attack.',
		level: 'warning',
		tags: ['security', 'poisoning'],
	},
	[ProblemCode.dirtyLabelNearDuplicate]: {
		name: 'DirtyLabelNearDuplicate',
		short: 'Near-duplicate rows carry different labels.',
		full: 'This row lies within the near-duplicate radius (a fraction of the median nearest-neighbour distance) of rows with another label.',
		help: 'Look at the row and its partners side by side. A slightly perturbed, relabelled copy of a real input is how near-clone poisons are made; remove it or fix its label.',
		level: 'warning',
		tags: ['security', 'poisoning'],
	},
	[ProblemCode.nearCloneCluster]: {
		name: 'NearCloneCluster',
		short: 'A tight same-label cluster far from its label\'s mean.',
		full: 'A group of rows that are almost copies of each other, all with one label, sits far from the other rows of that label: the near-clone regime of a clean-label backdoor.',
		help: 'Inspect the cluster (the related locations). If the rows share a small pattern (a patch, a blend), they are likely poisons: remove them and retrain.',
		level: 'warning',
		tags: ['security', 'poisoning'],
	},
	[ProblemCode.spectralSignature]: {
		name: 'SpectralSignature',
		short: 'The row is in a separated minority group of its label (input-gradient spectral signature).',
		full: 'The analyser scored the rows with a run trained on this file: this row\'s input gradient falls in a minority group of its label that separates from the rest along the top singular direction.',
		help: 'Inspect the flagged rows of the label together; a shared pattern among them is a backdoor trigger. Remove them and retrain.',
		level: 'warning',
		tags: ['security', 'poisoning'],
	},
	[ProblemCode.rowScoresUnmatched]: {
		name: 'RowScoresUnmatched',
		short: 'A run names this file but does not match its rows.',
		full: 'A run in the workspace trained on more rows than this file has, so its row scores cannot be placed.',
		help: 'Point the run\'s dataset.source at the file it trained on, or record a new run on this file.',
		level: 'note',
		tags: ['configuration'],
	},
	[ProblemCode.missingImage]: {
		name: 'MissingImage',
		short: 'The image a row names does not exist.',
		full: 'A row\'s image-path cell names a file that is not there.',
		help: 'Restore the image or remove the row.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.unreadableImage]: {
		name: 'UnreadableImage',
		short: 'The image a row names cannot be decoded.',
		full: 'The image a row names exists but is not a readable PNG or JPEG.',
		help: 'Replace the file with a valid image or remove the row.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.noLabelColumn]: {
		name: 'NoLabelColumn',
		short: 'No label column was found; label checks are off.',
		full: 'No column looks like a label (label, class, target, y, …) and none was configured, so the dirty-label checks did not run.',
		help: 'Pass --label-column (or set poisonLens.dataset.labelColumn) to name the label column.',
		level: 'note',
		tags: ['configuration'],
	},
	[ProblemCode.lineTooLong]: {
		name: 'LineTooLong',
		short: 'A line is longer than the per-line limit and was not parsed.',
		full: 'A line exceeds the scanner\'s per-line limit (1 MiB of text by default), so its row is excluded: one giant line cannot exhaust memory.',
		help: 'Check how the file was written (a missing line break, a binary blob in a cell); split or remove the line.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.encoding]: {
		name: 'Encoding',
		short: 'The bytes are not UTF-8 text.',
		full: 'The file holds invalid UTF-8 sequences, NUL bytes, or a UTF-16/UTF-32 byte order mark, so it is not the UTF-8 text the readers expect.',
		help: 'Re-save the file as UTF-8 (without NUL bytes); a training loader would misread these rows.',
		level: 'error',
		tags: ['structure'],
	},
	[ProblemCode.problemCap]: {
		name: 'ProblemCap',
		short: 'More problems were found than the cap; the rest are counted.',
		full: 'The scan found more problems than --max-problems; this summary counts the rest per code.',
		help: 'Raise --max-problems to see all findings.',
		level: 'note',
		tags: ['configuration'],
	},
};

/** Rules of an analysis verdict or finding. */
const ANALYSIS_RULES: Readonly<Record<string, RuleText>> = {
	'verdict-early-warning': {
		name: 'BackdoorEarlyWarning',
		short: 'The input curvature shows a backdoor forming.',
		full: 'A trigger-aligned spike of the input-Hessian spectrum appeared before the attack works (or well before the attack success rate rose).',
		help: 'Inspect the suspects and the candidate trigger on the dashboard (poison-lens report for a shareable copy); stop or retrain without them.',
		level: 'warning',
		tags: ['security', 'backdoor'],
	},
	'verdict-visible': {
		name: 'BackdoorVisible',
		short: 'A backdoor works and the spectrum shows it.',
		full: 'The attack success rate and the trigger-aligned curvature rose together (within one checkpoint interval), or blind mode found a candidate trigger that flips at least 20 % of clean probes to one class.',
		help: 'The model has learned a backdoor. Remove the suspect training rows and retrain, or train with input-gradient regularisation plus data augmentation.',
		level: 'error',
		tags: ['security', 'backdoor'],
	},
	'verdict-lagging': {
		name: 'BackdoorLagging',
		short: 'A backdoor works; the spectrum showed it only later.',
		full: 'The attack success rate rose first and the curvature signal followed more than one checkpoint interval later.',
		help: 'The model has learned a backdoor. Remove the suspect training rows and retrain; do not rely on the spectrum alone as an early warning for this data.',
		level: 'error',
		tags: ['security', 'backdoor'],
	},
	'verdict-invisible': {
		name: 'BackdoorInvisible',
		short: 'A backdoor works without any spectral signal.',
		full: 'The attack works but no spectral signal was measured: no trigger-aligned spike of the input Hessian and no rise of the curvature along the trigger.',
		help: 'Train with input-gradient regularisation together with data augmentation, and run the dataset near-duplicate check (poison-lens scan).',
		level: 'error',
		tags: ['security', 'backdoor'],
	},
	'blind-suspects': {
		name: 'BlindModeSuspects',
		short: 'Blind mode flagged training rows as suspects.',
		full: 'Training samples whose top input-Hessian eigenvector lies within the consensus cluster of a candidate trigger.',
		help: 'Open the run\'s dashboard or report: the suspects table lists the rows; look at them with the candidate trigger and remove the poisoned ones.',
		level: 'warning',
		tags: ['security', 'backdoor'],
	},
	'checkpoint-error': {
		name: 'CheckpointError',
		short: 'A checkpoint could not be analysed.',
		full: 'The analyser recorded an error for a checkpoint of the run; the verdict was derived without it.',
		help: 'Read the error text; rerun poison-lens analyse after fixing the run folder.',
		level: 'warning',
		tags: ['analysis'],
	},
};

const SEVERITY_LEVEL: Record<Severity, SarifLevel> = { error: 'error', warning: 'warning', information: 'note' };

function toRule(id: string, t: RuleText): SarifRule {
	return {
		id,
		name: t.name,
		shortDescription: { text: t.short },
		fullDescription: { text: t.full },
		help: { text: t.help, markdown: `**${t.short}**\n\n${t.full}\n\n${t.help}` },
		defaultConfiguration: { level: t.level },
		properties: { tags: t.tags },
	};
}

/** Every scan rule (stable order: the problem-code declaration order). */
export const SCAN_RULE_IDS: readonly string[] = Object.values(ProblemCode);
/** Every analysis rule id. */
export const ANALYSIS_RULE_IDS: readonly string[] = Object.keys(ANALYSIS_RULES);

/** The SARIF rule of a dataset problem code or an analysis rule id. */
export function sarifRule(id: string): SarifRule {
	const t = (SCAN_RULES as Readonly<Record<string, RuleText>>)[id] ?? ANALYSIS_RULES[id];
	if (t === undefined) {
		throw new Error(`no SARIF rule for "${id}"`);
	}
	return toRule(id, t);
}

/** A URI for a path relative to the SARIF base (forward slashes, each segment percent-encoded). */
export function relativeUri(relPath: string): string {
	return relPath
		.split(/[\\/]+/)
		.filter((s) => s !== '' && s !== '.')
		.map((s) => encodeURIComponent(s))
		.join('/');
}

/** Where the paths in a log are relative to: `%SRCROOT%` (the checkout, usually the cwd of the CI step). */
export interface SarifBase {
	/** file:// URI of the folder relative paths start from (ends with /), or null to leave it to the consumer. */
	readonly srcRootUri: string | null;
	readonly toolVersion: string;
	readonly commandLine?: string;
}

function log(base: SarifBase, rules: SarifRule[], results: SarifResult[], properties?: Record<string, unknown>): SarifLog {
	return {
		$schema: SARIF_SCHEMA_URI,
		version: SARIF_VERSION,
		runs: [
			{
				tool: { driver: { name: 'Poison Lens', version: base.toolVersion, semanticVersion: base.toolVersion, rules } },
				...(base.srcRootUri === null ? {} : { originalUriBaseIds: { SRCROOT: { uri: base.srcRootUri } } }),
				invocations: [{ executionSuccessful: true, ...(base.commandLine === undefined ? {} : { commandLine: base.commandLine }) }],
				results,
				...(properties === undefined ? {} : { properties }),
			},
		],
	};
}

/**
 * SARIF from dataset findings.
 * @param fileUri the dataset's path relative to the SARIF base, as a URI ({@link relativeUri})
 */
export function scanToSarif(fileUri: string, problems: readonly Problem[], base: SarifBase, stats: { rows: number }): SarifLog {
	const ids = SCAN_RULE_IDS.filter((id) => problems.some((p) => p.code === id));
	const rules = ids.map(sarifRule);
	const results: SarifResult[] = problems.map((p) => ({
		ruleId: p.code,
		ruleIndex: ids.indexOf(p.code),
		level: SEVERITY_LEVEL[p.severity],
		message: {
			text:
				p.message +
				(p.related.length > 0 ? ` Partner rows on lines ${p.related.slice(0, 20).join(', ')}${p.related.length > 20 ? ', …' : ''}.` : ''),
		},
		locations: [
			{
				physicalLocation: {
					artifactLocation: { uri: fileUri, uriBaseId: 'SRCROOT' },
					region: {
						startLine: p.line,
						startColumn: p.column,
						...(p.endLine === undefined ? {} : { endLine: p.endLine }),
						...(p.endColumn > p.column || (p.endLine ?? p.line) > p.line ? { endColumn: p.endColumn } : {}),
					},
				},
			},
		],
		...(p.related.length > 0
			? {
					relatedLocations: p.related.slice(0, 20).map((line, i) => ({
						id: i + 1,
						message: { text: `partner row (line ${line})` },
						physicalLocation: { artifactLocation: { uri: fileUri, uriBaseId: 'SRCROOT' }, region: { startLine: line } },
					})),
				}
			: {}),
		partialFingerprints: { 'poisonLens/row/v1': `${p.code}:${p.line}` },
		...(p.evidence.length > 0 ? { properties: { evidence: Object.fromEntries(p.evidence.map((e) => [e.label, e.value])) } } : {}),
	}));
	return log(base, rules, results, { rows: stats.rows });
}

/** The facts of a run's analysis that SARIF and the summaries report. */
export interface AnalysisFacts {
	/** The run's name (manifest runName) or folder name. */
	readonly runName: string;
	/** manifest.json's path relative to the SARIF base, as a URI. */
	readonly manifestUri: string;
	readonly verdict: Verdict;
	readonly lag: SignedLag;
	readonly finalExcessAsr: number | null;
	readonly recommendation: string | null;
	readonly blind: BlindSummary | null;
	/** Whether the run declared an attack (ASR and the lag apply). */
	readonly declaredAttack: boolean;
	/** Whether the declared trigger is a near-clone one (the only case a text may name the near-clone regime). Optional. */
	readonly nearClone?: boolean;
	readonly checkpoints: number;
	readonly errors: readonly { readonly step: number; readonly error: string }[];
}

function pct(v: number | null | undefined): string {
	return v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`;
}

/** SARIF from a run's analysis: the verdict, blind-mode suspects and checkpoint errors, at manifest.json. */
export function analysisToSarif(f: AnalysisFacts, base: SarifBase): SarifLog {
	const ids: string[] = [];
	const results: SarifResult[] = [];
	const add = (id: string, text: string, properties?: Record<string, unknown>, level?: SarifLevel): void => {
		if (!ids.includes(id)) {
			ids.push(id);
		}
		results.push({
			ruleId: id,
			ruleIndex: ids.indexOf(id),
			level: level ?? ANALYSIS_RULES[id].level,
			message: { text },
			locations: [{ physicalLocation: { artifactLocation: { uri: f.manifestUri, uriBaseId: 'SRCROOT' }, region: { startLine: 1 } } }],
			partialFingerprints: { 'poisonLens/run/v1': `${f.manifestUri}:${id}` },
			...(properties === undefined ? {} : { properties }),
		});
	};
	if (f.verdict !== 'clean') {
		const lag = f.lag.lagSteps === null ? '' : ` Signed lag ${f.lag.lagSteps} steps${f.lag.lagEpochs === null ? '' : ` (${f.lag.lagEpochs.toFixed(2)} epochs)`}.`;
		const asr = f.finalExcessAsr === null ? '' : ` Final excess attack success ${pct(f.finalExcessAsr)}.`;
		add(
			`verdict-${f.verdict}`,
			`Run "${f.runName}": ${verdictHeadline(f.verdict, f.declaredAttack, { nearClone: f.nearClone, blindTest: f.blind?.test ?? null })}.${asr}${lag}${f.recommendation === null ? '' : ` ${f.recommendation}`}`,
			{ verdict: f.verdict, lag: f.lag, finalExcessAsr: f.finalExcessAsr },
		);
	}
	const b = f.blind;
	if (b !== null && b.suspects !== null && b.suspects > 0) {
		add(
			'blind-suspects',
			`Run "${f.runName}": blind mode flagged ${b.suspects} training rows as suspects; the candidate trigger flips ${pct(b.flipRate)} of clean probes` +
				`${b.flipClass === null || b.flipClass === undefined ? '' : ` to class ${b.flipClass}`}.`,
			{ suspects: b.suspects, flipRate: b.flipRate, flipClass: b.flipClass ?? null, suspectRows: (b.suspectRows ?? []).slice(0, 100) },
			// Suspects alone are evidence for a look; with a non-clean verdict they are the rows to remove.
			f.verdict === 'clean' ? 'note' : 'warning',
		);
	}
	for (const e of f.errors) {
		add('checkpoint-error', `Run "${f.runName}": checkpoint at step ${e.step} was not analysed: ${e.error}`, { step: e.step });
	}
	return log(base, ids.map(sarifRule), results, { verdict: f.verdict, checkpoints: f.checkpoints });
}
