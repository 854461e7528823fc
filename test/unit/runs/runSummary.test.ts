import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { RunFormatError, parseManifestCore } from '../../../src/protocol/runFormat';
import { activityFromLastEvent, isBroken, lastEvent, sortRuns, summariseRun, type RunSummary } from '../../../src/protocol/runSummary';
import { STALE_AFTER_MS, runStatus } from '../../../src/protocol/runStatus';

function runDir(manifest: unknown, events?: string): string {
	const dir = path.join(mkdtempSync(path.join(tmpdir(), 'pl-run-')), 'run');
	mkdirSync(dir);
	writeFileSync(path.join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
	if (events !== undefined) {
		writeFileSync(path.join(dir, 'events.jsonl'), events);
	}
	return dir;
}

const manifest = { schemaVersion: '1.0', runId: 'r1', name: 'run one', createdAt: '2026-11-20T09:15:00.000Z' };

describe('parseManifestCore', () => {
	test('accepts a minimal manifest', () => {
		assert.deepEqual(parseManifestCore(JSON.stringify(manifest), 'm.json'), manifest);
	});
	test('names the file and the field on a missing or empty field', () => {
		assert.throws(() => parseManifestCore(JSON.stringify({ ...manifest, name: '' }), '/w/m.json'), (e: unknown) => e instanceof RunFormatError && /\/w\/m\.json: field "name"/.test(e.message));
		const { runId: _drop, ...noId } = manifest;
		assert.throws(() => parseManifestCore(JSON.stringify(noId), 'm.json'), /field "runId" must be a non-empty string, got undefined/);
	});
	test('rejects invalid JSON, non-objects, bad dates and other major versions', () => {
		assert.throws(() => parseManifestCore('{"a":', 'm.json'), /m\.json: not valid JSON/);
		assert.throws(() => parseManifestCore('[1]', 'm.json'), /expected a JSON object/);
		assert.throws(() => parseManifestCore(JSON.stringify({ ...manifest, createdAt: 'yesterday' }), 'm.json'), /"createdAt" is not an ISO 8601 date: "yesterday"/);
		assert.throws(() => parseManifestCore(JSON.stringify({ ...manifest, schemaVersion: '2.0' }), 'm.json'), /schemaVersion "2.0" is not supported/);
	});
});

describe('lastEvent', () => {
	test('ignores a partial last line left by a writer killed mid-append', async () => {
		const dir = runDir(manifest, '{"type":"epoch","epoch":0}\n{"type":"end"}\n{"type":"bat');
		assert.equal((await lastEvent(path.join(dir, 'events.jsonl')))?.type, 'end');
	});
	test('reads the last complete record, skipping blank lines, and is undefined without a log', async () => {
		const dir = runDir(manifest, '{"type":"epoch"}\n\n{"type":"error","message":"x"}\n\n');
		assert.equal((await lastEvent(path.join(dir, 'events.jsonl')))?.type, 'error');
		assert.equal(await lastEvent(path.join(dir, 'missing.jsonl')), undefined);
	});
	test('only the tail is read, so a large log costs the same', async () => {
		const big = '{"type":"batch","loss":0.1}\n'.repeat(20_000) + '{"type":"end"}\n';
		const dir = runDir(manifest, big);
		assert.equal((await lastEvent(path.join(dir, 'events.jsonl')))?.type, 'end');
	});
});

describe('runStatus', () => {
	const statusFrom = (type: string | undefined, lastActivity: number, now: number, status?: string) =>
		runStatus(activityFromLastEvent(type === undefined ? undefined : { type, ...(status === undefined ? {} : { status }) }, lastActivity), now);
	const now = Date.parse('2026-11-26T12:00:00Z');
	test('maps the last event and its age to a status', () => {
		assert.equal(statusFrom(undefined, now, now), 'created');
		assert.equal(statusFrom('end', now - 10 * STALE_AFTER_MS, now), 'finished');
		assert.equal(statusFrom('error', now, now), 'failed');
		assert.equal(statusFrom('epoch', now - 1000, now), 'training');
		assert.equal(statusFrom('batch', now - STALE_AFTER_MS - 1, now), 'interrupted');
		assert.equal(statusFrom('end', now, now, 'failed'), 'failed');
		assert.equal(statusFrom('end', now, now, 'completed'), 'finished');
	});
});

describe('summariseRun', () => {
	test('summarises a finished run and reports a broken manifest instead of dropping it', async () => {
		const good = runDir(manifest, '{"type":"end"}\n');
		const s = await summariseRun(path.join(good, 'manifest.json'));
		assert.ok(!isBroken(s));
		assert.equal(s.status, 'finished');
		const bad = runDir('{ nope');
		const b = await summariseRun(path.join(bad, 'manifest.json'));
		assert.ok(isBroken(b));
		assert.match(b.error, /manifest\.json: not valid JSON/);
	});
	test('a run whose log stopped growing long ago without an end record is interrupted', async () => {
		const dir = runDir(manifest, '{"type":"epoch"}\n');
		const old = new Date(Date.now() - 2 * STALE_AFTER_MS);
		utimesSync(path.join(dir, 'events.jsonl'), old, old);
		const s = await summariseRun(path.join(dir, 'manifest.json'));
		assert.ok(!isBroken(s) && s.status === 'interrupted');
	});
	test('sortRuns puts the newest first and breaks ties by name', () => {
		const mk = (name: string, createdAt: string): RunSummary => ({ dir: name, status: 'finished', lastActivity: 0, manifest: { ...manifest, name, createdAt } });
		const sorted = sortRuns([mk('b', '2026-01-01T00:00:00Z'), mk('c', '2026-02-01T00:00:00Z'), mk('a', '2026-01-01T00:00:00Z')]);
		assert.deepEqual(sorted.map((r) => r.dir), ['c', 'a', 'b']);
	});
});
