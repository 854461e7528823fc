import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '@sinclair/typebox';
import { applyDefaults, describeSchema, fieldPath, firstIssue, formatIssue, List, Nullable, OneOf, OrNull } from '../../../src/protocol/schema';

const Tagged = T.Union([
	T.Object({ type: T.Literal('a'), x: T.Integer({ minimum: 0 }) }, { additionalProperties: false }),
	T.Object({ type: T.Literal('b'), y: T.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

const message = (schema: T.TSchema, value: unknown): string | undefined => {
	const issue = firstIssue(schema, value);
	return issue === undefined ? undefined : formatIssue(issue);
};

describe('schema issues in words', () => {
	test('describes each kind of schema', () => {
		assert.equal(describeSchema(T.Integer({ minimum: 0 })), 'a non-negative integer');
		assert.equal(describeSchema(T.Integer({ minimum: 1, maximum: 20 })), 'an integer in [1, 20]');
		assert.equal(describeSchema(OrNull(T.Number())), 'a finite number or null');
		assert.equal(describeSchema(OrNull(OneOf(['light', 'full']))), '"light", "full" or null');
		assert.equal(describeSchema(OneOf(['a', 'b', 'c', 'd'])), 'one of a, b, c, d');
		assert.equal(describeSchema(List(T.String(), { minItems: 1 })), 'a non-empty array');
		assert.equal(describeSchema(T.String({ pattern: '^x$' })), 'a string matching ^x$');
		assert.equal(describeSchema(T.String({ pattern: '^x$', description: '"x"' })), '"x"');
	});

	test('paths: dots for keys, brackets for indices', () => {
		assert.equal(fieldPath('/images/topEigenvector/data/3'), 'images.topEigenvector.data[3]');
		assert.equal(fieldPath('/a~1b/0', 'blind.'), 'blind.a/b[0]');
	});

	test('the first issue names the field path and the value; a tagged union is judged by the member its tag names', () => {
		const S = T.Object({ list: T.Array(T.Object({ n: Nullable(T.Number()) })), tagged: Tagged });
		assert.equal(message(S, { list: [{ n: 1 }, { n: 'x' }], tagged: { type: 'a', x: 1 } }), 'field "list[1].n" must be a finite number or null, got "x"');
		assert.equal(message(S, { list: [], tagged: { type: 'a', x: -1 } }), 'field "tagged.x" must be a non-negative integer, got -1');
		assert.equal(message(S, { list: [], tagged: { type: 'c' } }), 'field "tagged.type" must be "a" or "b", got "c"');
		assert.equal(message(S, { list: [], tagged: { type: 'b', y: 'k', z: 0 } }), 'unknown field "tagged.z"');
		assert.equal(message(S, { list: [] }), 'field "tagged" must be an object, got undefined');
		assert.equal(message(S, null), 'expected an object, got null');
		assert.equal(message(T.Object({ k: T.Union([T.Integer({ minimum: 1 }), T.Literal('epoch')]) }), { k: 0 }), 'field "k" must be an integer ≥ 1 or "epoch", got 0');
		assert.equal(message(S, { list: [], tagged: { type: 'b', y: 'ok' } }), undefined);
	});

	test('a missing field can be worded "is required"', () => {
		const issue = firstIssue(T.Object({ step: T.Integer() }), {});
		assert.ok(issue !== undefined);
		assert.equal(formatIssue(issue, { missing: 'is-required', prefix: 'test.' }), 'field "test.step" is required, got undefined');
	});

	test('where code generation is forbidden (a CSP without unsafe-eval), the interpreting check gives the same answers', () => {
		const S = T.Object({ n: T.Integer({ minimum: 0 }), tag: OneOf(['x', 'y']) });
		const original = globalThis.Function;
		let refused = 0;
		globalThis.Function = function () {
			refused++;
			throw new EvalError('code generation from strings disallowed');
		} as unknown as FunctionConstructor;
		try {
			assert.equal(message(S, { n: 1, tag: 'x' }), undefined);
			assert.equal(message(S, { n: -1, tag: 'x' }), 'field "n" must be a non-negative integer, got -1');
			assert.equal(message(S, { n: 1, tag: 'z' }), 'field "tag" must be "x" or "y", got "z"');
		} finally {
			globalThis.Function = original;
		}
		assert.equal(refused, 1, 'the compiled check was tried once, then the interpreting one used');
	});

	test('NaN and infinities are not numbers', () => {
		assert.match(message(T.Object({ v: T.Number() }), { v: Number.NaN }) ?? '', /field "v" must be a finite number, got NaN$/);
		assert.match(message(T.Object({ v: T.Number() }), { v: -Infinity }) ?? '', /got -Infinity$/);
	});

	test('defaults: absent reads as its default, unknown fields drop, optional nulls drop, closed objects keep extras for the check', () => {
		const S = T.Object({
			a: OrNull(T.Number()),
			b: T.Optional(Nullable(T.String())),
			c: T.Integer({ default: 0 }),
			inner: OrNull(T.Object({ d: OrNull(T.Number()) })),
			closed: T.Optional(T.Object({ e: T.Number() }, { additionalProperties: false })),
		});
		const v: Record<string, unknown> = { b: null, c: null, extra: 1, inner: {}, closed: { e: 1, f: 2 } };
		applyDefaults(S, v);
		assert.deepEqual(v, { a: null, c: 0, inner: { d: null }, closed: { e: 1, f: 2 } });
		assert.equal(message(S, v), 'unknown field "closed.f"');
	});
});
