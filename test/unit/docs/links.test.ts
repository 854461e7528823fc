/**
 * Every reference to a Markdown document in the repository resolves inside the repository: the product's code, docs
 * and messages never lean on a file a user cannot open. Checked in src, webview, bench, scripts, test, docs, .ci and
 * the root files:
 *   - Markdown links `[text](target#anchor)` in .md files: the target exists (relative to the linking file), and an
 *     anchor into a .md file names one of its headings (GitHub's heading slugs);
 *   - bare mentions `some/path/name.md` anywhere: the file exists relative to the mentioning file or the repo root;
 *   - section mentions `name.md §2.6`: the document has a heading numbered 2.6.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const SCAN_DIRS = ['src', 'webview', 'bench', 'scripts', 'test', 'docs', '.ci'];
const ROOT_FILES = ['README.md', 'CHANGELOG.md', 'esbuild.mjs', 'eslint.config.mjs', 'package.json'];
const TEXT_EXT = new Set(['.ts', '.mts', '.mjs', '.js', '.cjs', '.md', '.sh', '.py', '.html', '.css', '']);
const SKIP_DIRS = new Set(['node_modules', 'dist', 'out', '.tools', '.test-artifacts', '__pycache__']);
/** Mentions that name a file outside this repository on purpose, per file. */
const ALLOWED: Record<string, readonly string[]> = {
	'src/host/runs/runPicker.ts': ['readme.md'], // the README's name inside an installed VSIX
	'scripts/package.mjs': ['LICENSE.md'], // a file of the npm package `webgpu`, staged into platform VSIXs
	'bench/reproduce/main.ts': ['results.md'], // path.join(REPO_ROOT, 'docs', 'results.md')
	'bench/detect/main.ts': ['detection.md'], // path.join(ROOT, 'docs', 'detection.md')
	'test/e2e/ciGate.test.ts': ['step-summary.md', 'sum.md'], // job-summary files the test writes in a temp folder
	'test/unit/docs/links.test.ts': ['readme.md', 'LICENSE.md', 'results.md', 'detection.md', 'step-summary.md', 'sum.md', 'some/path/name.md', 'name.md', 'a.md', 'b.md', 'gone.md', 'gone2.md'], // the checker's own fixtures
};

function listFiles(dir: string): string[] {
	const full = path.join(root, dir);
	if (!fs.existsSync(full)) {
		return [];
	}
	const out: string[] = [];
	for (const entry of fs.readdirSync(full, { withFileTypes: true })) {
		const rel = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			if (!SKIP_DIRS.has(entry.name)) {
				out.push(...listFiles(rel));
			}
		} else if (entry.isFile() && TEXT_EXT.has(path.extname(entry.name)) && fs.statSync(path.join(root, rel)).size < 2_000_000) {
			out.push(rel);
		}
	}
	return out;
}

/** GitHub's heading anchor: lower case, punctuation and symbols dropped, each space a hyphen. */
export function slug(heading: string): string {
	return heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
		.replace(/ /g, '-');
}

const headingCache = new Map<string, string[]>();
function headings(file: string): string[] {
	let hs = headingCache.get(file);
	if (!hs) {
		let inFence = false;
		hs = [];
		for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
			if (/^\s*```/.test(line)) {
				inFence = !inFence;
			} else if (!inFence) {
				const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
				if (m) {
					hs.push(m[1]);
				}
			}
		}
		headingCache.set(file, hs);
	}
	return hs;
}

function anchors(file: string): Set<string> {
	const seen = new Map<string, number>();
	const out = new Set<string>();
	for (const h of headings(file)) {
		const base = slug(h.replace(/`/g, ''));
		const n = seen.get(base) ?? 0;
		seen.set(base, n + 1);
		out.add(n === 0 ? base : `${base}-${n}`);
	}
	return out;
}

/** True when the document has a heading numbered `section` ("2.6" matches "### 2.6 The near-clone regime"). */
function hasSection(file: string, section: string): boolean {
	return headings(file).some((h) => new RegExp(`^(Appendix\\s+)?${section.replace(/\./g, '\\.')}(\\.|\\s|$)`).test(h));
}

function resolveDoc(fromFile: string, target: string): string | undefined {
	const candidates = [path.resolve(root, path.dirname(fromFile), target), path.resolve(root, target)];
	return candidates.find((c) => c.startsWith(root + path.sep) && fs.existsSync(c));
}

interface Problem {
	readonly where: string;
	readonly what: string;
}

function lineOf(text: string, index: number): number {
	return text.slice(0, index).split('\n').length;
}

function checkFile(rel: string): Problem[] {
	const text = fs.readFileSync(path.join(root, rel), 'utf8');
	const problems: Problem[] = [];
	const isMd = rel.endsWith('.md');
	if (isMd) {
		for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
			const target = m[1];
			if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
				continue; // https:, mailto:, vscode: …
			}
			const [file, anchor] = target.split('#', 2);
			const where = `${rel}:${lineOf(text, m.index)}`;
			const resolved = file === '' ? path.join(root, rel) : resolveDoc(rel, decodeURIComponent(file));
			if (ALLOWED[rel]?.includes(file)) {
				continue;
			}
			if (!resolved) {
				problems.push({ where, what: `link to missing file ${target}` });
			} else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(decodeURIComponent(anchor))) {
				problems.push({ where, what: `link ${target}: no heading with anchor #${anchor} in ${path.relative(root, resolved)}` });
			}
		}
	}
	// Bare mentions (also inside links, which resolve the same way), with an optional section number after them.
	for (const m of text.matchAll(/(?<![\w.\-/@])((?:\.{1,2}\/)?[\w-]+(?:\/[\w.-]+)*\.md)\b(?:\s*§\s*(\d+(?:\.\d+)*|[A-Z]\b))?/g)) {
		const [, file, section] = m;
		const where = `${rel}:${lineOf(text, m.index)}`;
		const resolved = resolveDoc(rel, file);
		if (ALLOWED[rel]?.includes(file)) {
			continue;
		}
		if (!resolved) {
			problems.push({ where, what: `mentions ${file}, which is not in the repository` });
		} else if (section && !hasSection(resolved, section)) {
			problems.push({ where, what: `mentions ${file} §${section}, but ${path.relative(root, resolved)} has no section ${section}` });
		}
	}
	return problems;
}

describe('references to Markdown documents resolve inside the repository', () => {
	const files = [...SCAN_DIRS.flatMap(listFiles), ...ROOT_FILES.filter((f) => fs.existsSync(path.join(root, f)))];

	test('the scan covers the code and the docs', () => {
		assert.ok(files.some((f) => f.startsWith('src/')) && files.some((f) => f.startsWith('docs/')) && files.includes('README.md'));
	});

	test('every link, mention and section reference resolves', () => {
		const problems = files.flatMap(checkFile);
		assert.equal(problems.length, 0, `${problems.length} references do not resolve:\n${problems.map((p) => `${p.where}: ${p.what}`).join('\n')}`);
	});

	test('the checker itself finds a dangling reference, a missing section and a missing anchor', () => {
		const dir = fs.mkdtempSync(path.join(root, '.test-artifacts-links-'));
		try {
			fs.writeFileSync(path.join(dir, 'a.md'), '# Title\n\n## 2. Part two\n\n### 2.1 Sub: part (one)\n');
			const rel = path.relative(root, dir);
			fs.writeFileSync(path.join(dir, 'b.md'), 'See [x](a.md#21-sub-part-one), a.md §2.1, [y](a.md#nope), a.md §3, gone.md and [z](gone2.md).\n');
			const found = checkFile(path.join(rel, 'b.md')).map((p) => p.what);
			assert.deepEqual(found, [
				'link a.md#nope: no heading with anchor #nope in ' + path.join(rel, 'a.md'),
				'link to missing file gone2.md',
				`mentions a.md §3, but ${path.join(rel, 'a.md')} has no section 3`,
				'mentions gone.md, which is not in the repository',
				'mentions gone2.md, which is not in the repository',
			]);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	test('slugs follow GitHub', () => {
		assert.equal(slug('5. Measured on the demo (MNIST, θ = 1 % vs θ = 0)'), '5-measured-on-the-demo-mnist-θ--1--vs-θ--0');
		assert.equal(slug('4. Defence: input-gradient regularisation × augmentation'), '4-defence-input-gradient-regularisation--augmentation');
	});
});
