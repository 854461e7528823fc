/**
 * One source for the boundaries' types and validation: every message and file format is declared once as a
 * TypeBox schema (a plain JSON Schema object), its TypeScript type is `Static<typeof Schema>`, and inbound data
 * is checked against the same object with TypeBox's interpreting validator (no code generation, so it runs
 * under the dashboard webview's Content-Security-Policy, which forbids `eval`).
 *
 * This module turns the validator's first error into one sentence naming the field path and the offending
 * value (`field "test.state" must be one of alarm, quiet, inconclusive, nothing-to-analyse, got "visible"`),
 * and fills the defaults a tolerant reader applies (absent → null). Pure: no `vscode`, no tfjs, no DOM.
 *
 * Imports are per builder (`T.Object`, not the `Type` namespace) so bundlers keep only what is used.
 */
import * as T from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Check } from '@sinclair/typebox/value';
import { Errors, ValueErrorType } from '@sinclair/typebox/errors';

export type { Static, TSchema } from '@sinclair/typebox';

/** `schema | null`. */
export function Nullable<S extends T.TSchema>(schema: S, options?: T.SchemaOptions): T.TUnion<[S, T.TNull]> {
	return T.Union([schema, T.Null()], options);
}

/** `schema | null`, read as null when the field is absent (a tolerant reader's default). */
export function OrNull<S extends T.TSchema>(schema: S): T.TUnion<[S, T.TNull]> {
	return T.Union([schema, T.Null()], { default: null });
}

/** An array whose static type is read-only (`readonly X[]`), so writers may pass read-only arrays. */
export function List<S extends T.TSchema>(items: S, options?: T.ArrayOptions): T.TUnsafe<readonly T.Static<S>[]> {
	// Only the static type changes: the schema is the array schema itself.
	return T.Array(items, options);
}

/** One of a list of string literals (an enum), with its literal union as the static type. */
export function OneOf<const L extends readonly string[]>(values: L, options?: T.SchemaOptions): T.TUnion<T.TLiteral<L[number]>[]> {
	return T.Union(values.map((v) => T.Literal(v)), options);
}

/** The first thing wrong with a value: where (a JSON pointer), what kind of problem, and against which schema. */
export interface SchemaIssue {
	/** JSON pointer of the offending field ('' for the value itself). */
	readonly pointer: string;
	readonly kind: 'required' | 'unknown' | 'mismatch';
	/** The schema the value failed (for 'mismatch' and 'required'). */
	readonly schema: T.TSchema;
	readonly value: unknown;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
	if (v === null) {
		return 'null';
	}
	if (Array.isArray(v)) {
		return 'array';
	}
	return typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v;
}

function acceptsType(schema: Json, type: string): boolean {
	const t = schema.type;
	return t === type || (t === 'number' && type === 'integer');
}

/** The object members of a union that all carry a literal under one property name: that name. */
function discriminator(members: readonly Json[]): string | undefined {
	const first = members[0]?.properties;
	if (!isObject(first) || members.length < 2) {
		return undefined;
	}
	return Object.keys(first).find((key) => members.every((m) => isObject(m.properties) && isObject(m.properties[key]) && 'const' in m.properties[key]));
}

/**
 * Which member of a union a value was meant to be: the object member its discriminator names, else the one
 * member of the value's JSON type. Returns an issue when the discriminator itself is wrong.
 */
function unionMember(union: Json, value: unknown, pointer: string): T.TSchema | SchemaIssue | undefined {
	const members = (union.anyOf as Json[]).filter((m) => !('const' in m) && m.type !== 'null');
	const objects = members.filter((m) => m.type === 'object');
	const key = isObject(value) ? discriminator(objects) : undefined;
	if (key !== undefined && isObject(value)) {
		const match = objects.find((m) => (m.properties as Record<string, Json>)[key].const === value[key]);
		if (match !== undefined) {
			return match as T.TSchema;
		}
		const tag = T.Union(objects.map((m) => T.Literal((m.properties as Record<string, Json>)[key].const as string)));
		return { pointer: `${pointer}/${key}`, kind: value[key] === undefined ? 'required' : 'mismatch', schema: tag, value: value[key] };
	}
	const typed = members.filter((m) => acceptsType(m, jsonType(value)));
	return typed.length === 1 ? (typed[0] as T.TSchema) : undefined;
}

function issueIn(schema: T.TSchema, value: unknown, base: string): SchemaIssue {
	const e = Errors(schema, value).First();
	if (e === undefined) {
		return { pointer: base, kind: 'mismatch', schema, value };
	}
	const pointer = base + e.path;
	if (e.type === ValueErrorType.ObjectRequiredProperty) {
		return { pointer, kind: 'required', schema: e.schema, value: undefined };
	}
	if (e.type === ValueErrorType.ObjectAdditionalProperties) {
		return { pointer, kind: 'unknown', schema: e.schema, value: e.value };
	}
	if (e.type === ValueErrorType.Union) {
		const member = unionMember(e.schema, e.value, pointer);
		if (member !== undefined && 'pointer' in member) {
			return member as SchemaIssue;
		}
		if (member !== undefined) {
			const inner = issueIn(member, e.value, pointer);
			// A member failing as a whole (an integer below its minimum) is told against the whole union.
			if (inner.pointer !== pointer || inner.kind !== 'mismatch') {
				return inner;
			}
		}
	}
	return { pointer, kind: 'mismatch', schema: e.schema, value: e.value };
}

const checkers = new WeakMap<T.TSchema, (value: unknown) => boolean>();

/**
 * Whether a value matches: TypeBox's compiled check (about twice as fast as the interpreting one on a long
 * events.jsonl, near ajv's speed), or the interpreting one
 * where code generation is not allowed (a Content-Security-Policy without 'unsafe-eval').
 */
function matches(schema: T.TSchema, value: unknown): boolean {
	let check = checkers.get(schema);
	if (check === undefined) {
		try {
			const compiled = TypeCompiler.Compile(schema);
			check = (v) => compiled.Check(v);
		} catch {
			check = (v) => Check(schema, v);
		}
		checkers.set(schema, check);
	}
	return check(value);
}

/** The first problem of a value against a schema, or undefined when it matches. */
export function firstIssue(schema: T.TSchema, value: unknown): SchemaIssue | undefined {
	return matches(schema, value) ? undefined : issueIn(schema, value, '');
}

function joinOr(parts: readonly string[]): string {
	return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

function range(noun: string, s: Json): string {
	const min = s.minimum as number | undefined;
	const max = s.maximum as number | undefined;
	const openMin = s.exclusiveMinimum as number | undefined;
	if (openMin !== undefined && max !== undefined) {
		return `${noun === 'integer' ? 'an integer' : 'a number'} in (${openMin}, ${max}]`;
	}
	if (min !== undefined && max !== undefined) {
		return `${noun === 'integer' ? 'an integer' : 'a number'} in [${min}, ${max}]`;
	}
	if (min === 0) {
		return `a non-negative ${noun}`;
	}
	if (min !== undefined) {
		return `${noun === 'integer' ? 'an integer' : 'a number'} ≥ ${min}`;
	}
	if (max !== undefined) {
		return `${noun === 'integer' ? 'an integer' : 'a number'} ≤ ${max}`;
	}
	return noun === 'integer' ? 'an integer' : 'a finite number';
}

/** What a schema accepts, in words ("a non-negative integer", `"light", "full" or null`, "one of a, b, c, d"). */
export function describeSchema(schema: T.TSchema): string {
	const s = schema as Json;
	if ('const' in s) {
		return JSON.stringify(s.const);
	}
	if (Array.isArray(s.anyOf)) {
		// `OrNull(OneOf([...]))` nests one union in another: describe the flat list of alternatives.
		const flat = (u: Json): Json[] => (Array.isArray(u.anyOf) ? (u.anyOf as Json[]).flatMap(flat) : [u]);
		const members = flat(s);
		if (members.length > 3 && members.every((m) => 'const' in m || m.type === 'null')) {
			return `one of ${members.map((m) => ('const' in m ? String(m.const) : 'null')).join(', ')}`;
		}
		return joinOr([...new Set(members.map((m) => describeSchema(m as T.TSchema)))]);
	}
	switch (s.type) {
		case 'string':
			if (typeof s.pattern === 'string') {
				// A pattern's own description says it in words, where it has one.
				return typeof s.description === 'string' ? s.description : `a string matching ${s.pattern}`;
			}
			return typeof s.minLength === 'number' && s.minLength > 0 ? 'a non-empty string' : 'a string';
		case 'number':
			return range('number', s);
		case 'integer':
			return range('integer', s);
		case 'boolean':
			return 'a boolean';
		case 'null':
			return 'null';
		case 'array':
			return typeof s.minItems === 'number' && s.minItems > 0 ? 'a non-empty array' : 'an array';
		default:
			return 'an object';
	}
}

/** A value as JSON, shortened (an image's data need not fill the message). */
export function showValue(value: unknown): string {
	// JSON writes NaN and the infinities as null: name them.
	const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
	return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A JSON pointer as a field path: `/images/topEigenvector/data/3` → `images.topEigenvector.data[3]`. */
export function fieldPath(pointer: string, prefix = ''): string {
	let out = prefix;
	for (const raw of pointer.split('/').slice(1)) {
		const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
		out += /^\d+$/.test(key) ? `[${key}]` : out.length === 0 || out.endsWith('.') ? key : `.${key}`;
	}
	return out;
}

/** How {@link formatIssue} words a message. */
export interface IssueWording {
	/** Prepended to the field path (e.g. `summary.` when the value is a part of a larger message). */
	readonly prefix?: string;
	/** A missing field: `is required, got undefined`, or (default) what it must be, `got undefined`. */
	readonly missing?: 'is-required' | 'must-be';
}

/**
 * One sentence for an issue: `field "a.b[2]" must be an integer in [1, 20], got 0`, `field "x" must be a
 * non-empty string, got undefined` (or `field "x" is required, got undefined`), `unknown field "x"`, or for
 * the value itself `expected an object, got null`.
 */
export function formatIssue(issue: SchemaIssue, wording: IssueWording = {}): string {
	const field = fieldPath(issue.pointer, wording.prefix);
	if (issue.kind === 'unknown') {
		return `unknown field "${field}"`;
	}
	if (field.length === 0) {
		return `expected ${describeSchema(issue.schema)}, got ${showValue(issue.value)}`;
	}
	if (issue.kind === 'required' && wording.missing === 'is-required') {
		return `field "${field}" is required, got undefined`;
	}
	return `field "${field}" must be ${describeSchema(issue.schema)}, got ${showValue(issue.value)}`;
}

/**
 * What a tolerant reader makes of a value before checking it, in place: absent fields with a `default` get it
 * (also null ones whose schema does not accept null), optional fields without a default that hold null are
 * dropped, and fields the schema does not name are removed (a newer writer's additions are ignored), unless the
 * object forbids them (`additionalProperties: false`, then the check reports them).
 */
export function applyDefaults(schema: T.TSchema, value: unknown): void {
	const s = schema as Json;
	if (Array.isArray(s.anyOf)) {
		const member = unionMember(s, value, '');
		if (member !== undefined && !('pointer' in member)) {
			applyDefaults(member, value);
		}
		return;
	}
	if (s.type === 'array' && Array.isArray(value) && isObject(s.items)) {
		for (const item of value) {
			applyDefaults(s.items as T.TSchema, item);
		}
		return;
	}
	if (s.type !== 'object' || !isObject(value) || !isObject(s.properties)) {
		return;
	}
	const props = s.properties as Record<string, Json>;
	const required = Array.isArray(s.required) ? (s.required as string[]) : [];
	if (s.additionalProperties === undefined) {
		for (const key of Object.keys(value)) {
			if (!(key in props)) {
				delete value[key];
			}
		}
	}
	for (const [key, prop] of Object.entries(props)) {
		const v = value[key];
		const hasDefault = 'default' in prop;
		if (v === undefined || (v === null && hasDefault && prop.default !== null && !Check(prop as T.TSchema, null))) {
			if (hasDefault) {
				value[key] = structuredClone(prop.default);
			}
		} else if (v === null && !hasDefault && !required.includes(key)) {
			delete value[key];
		} else {
			applyDefaults(prop as T.TSchema, v);
		}
	}
}
