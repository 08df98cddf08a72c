/**
 * stdin/stdout code problems.
 *
 * LiveCodeBench (code generation): `{ question_id, question_title, question_content, platform,
 * contest_id, contest_date, starter_code, difficulty, public_test_cases, private_test_cases,
 * metadata }`. Reads: `question_id` (else `question_title`) → id; `question_content` → prompt;
 * `public_test_cases` then `private_test_cases` → tests `{ kind: 'stdio', cases, publicCount }`.
 * Each test field is a list of `{ input, output, testtype }` or a string holding that list as
 * JSON, or (as LiveCodeBench ships private tests) as base64 of zlib-compressed pickled JSON text.
 * Only `testtype: 'stdin'` is supported: a record with 'functional' (LeetCode-style) tests is
 * rejected. Metadata: title, platform, contestId, contestDate, difficulty.
 *
 * The simpler form `{ id, prompt, tests: [{ input, output }] }` (format 'stdio') reads `id`,
 * `prompt` and `tests`.
 */
import { inflateSync } from 'node:zlib';
import { InvalidRecord, type JsonObject } from '../../data/jsonl.js';
import { has, optId, pickMetadata, reqId, reqString, withMetadata, type FormatSpec, type Problem, type StdioCase } from './types.js';

/**
 * The string in a pickle of a single Python `str` (protocols 2–5: PROTO, optional FRAME,
 * SHORT_BINUNICODE / BINUNICODE / BINUNICODE8, optional MEMOIZE / BINPUT, STOP); null for anything else.
 * Only this one shape is understood — nothing is ever executed.
 */
export function unpickleString(b: Uint8Array): string | null {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  let i = 0;
  if (buf[i] === 0x80) i += 2; // PROTO n
  if (buf[i] === 0x95) i += 9; // FRAME <u64 length>
  let len: number;
  const op = buf[i];
  if (op === 0x8c) {
    len = buf[i + 1] ?? -1;
    i += 2;
  } else if (op === 0x58) {
    if (i + 5 > buf.length) return null;
    len = buf.readUInt32LE(i + 1);
    i += 5;
  } else if (op === 0x8d) {
    if (i + 9 > buf.length) return null;
    const big = buf.readBigUInt64LE(i + 1);
    if (big > BigInt(buf.length)) return null;
    len = Number(big);
    i += 9;
  } else {
    return null;
  }
  if (len < 0 || i + len > buf.length) return null;
  const text = buf.toString('utf8', i, i + len);
  i += len;
  if (buf[i] === 0x94) i++; // MEMOIZE (protocol 4+)
  else if (buf[i] === 0x71) i += 2; // BINPUT <u8> (protocols 2-3)
  else if (buf[i] === 0x72) i += 5; // LONG_BINPUT <u32>
  if (buf[i] !== 0x2e || i + 1 !== buf.length) return null; // STOP, end
  return text;
}

function decodeCompressed(s: string): unknown {
  const t = s.trim();
  if (!/^[A-Za-z0-9+/=\s]+$/.test(t)) return undefined;
  try {
    const text = unpickleString(inflateSync(Buffer.from(t, 'base64')));
    return text === null ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A test-case field: a list, a JSON string of a list, or LiveCodeBench's compressed string. */
function testCaseList(r: JsonObject, key: string): unknown[] {
  let v = r[key];
  if (typeof v === 'string') {
    if (v.trim() === '') return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = decodeCompressed(v);
      if (parsed === undefined) {
        throw new InvalidRecord(`field '${key}' is neither a JSON list nor LiveCodeBench's compressed test cases`);
      }
    }
    v = parsed;
  }
  if (!Array.isArray(v)) throw new InvalidRecord(`field '${key}' must be a list of test cases`);
  return v;
}

function stdioCases(list: unknown[], key: string, requireTestType: boolean): StdioCase[] {
  return list.map((c, i) => {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) {
      throw new InvalidRecord(`field '${key}'[${i}] must be an object {input, output}`);
    }
    const o = c as JsonObject;
    if (has(o, 'testtype') || requireTestType) {
      if (o.testtype !== 'stdin') {
        throw new InvalidRecord(
          `field '${key}'[${i}] has testtype ${JSON.stringify(o.testtype)}; only 'stdin' tests are supported` +
            (o.testtype === 'functional' ? " (LeetCode-style 'functional' problems are not)" : ''),
        );
      }
    }
    if (typeof o.input !== 'string') throw new InvalidRecord(`field '${key}'[${i}].input must be a string`);
    if (typeof o.output !== 'string') throw new InvalidRecord(`field '${key}'[${i}].output must be a string`);
    return { input: o.input, output: o.output };
  });
}

export function parseLiveCodeBench(r: JsonObject): Problem {
  const id = optId(r, 'question_id') ?? reqId(r, 'question_title');
  const content = reqString(r, 'question_content');
  const pub = has(r, 'public_test_cases') && r.public_test_cases !== null
    ? stdioCases(testCaseList(r, 'public_test_cases'), 'public_test_cases', true)
    : [];
  const priv = has(r, 'private_test_cases') && r.private_test_cases !== null
    ? stdioCases(testCaseList(r, 'private_test_cases'), 'private_test_cases', true)
    : [];
  const cases = [...pub, ...priv];
  if (cases.length === 0) throw new InvalidRecord("no test cases in 'public_test_cases' or 'private_test_cases'");
  return withMetadata(
    { id, task: 'code', format: 'livecodebench', prompt: content, tests: { kind: 'stdio', cases, publicCount: pub.length } },
    pickMetadata(r, {
      question_title: 'title',
      platform: 'platform',
      contest_id: 'contestId',
      contest_date: 'contestDate',
      difficulty: 'difficulty',
    }),
  );
}

/** The `tests` list of the simple stdio form (and of leaf's format): `[{ input, output }]`. */
export function parseStdioTests(r: JsonObject, key: string): StdioCase[] {
  const cases = stdioCases(testCaseList(r, key), key, false);
  if (cases.length === 0) throw new InvalidRecord(`field '${key}' is an empty list`);
  return cases;
}

export function parseStdio(r: JsonObject): Problem {
  const id = reqId(r, 'id');
  const prompt = reqString(r, 'prompt');
  const cases = parseStdioTests(r, 'tests');
  return { id, task: 'code', format: 'stdio', prompt, tests: { kind: 'stdio', cases } };
}

export const livecodebench: FormatSpec = {
  name: 'livecodebench',
  task: 'code',
  describe: 'livecodebench: question_id or question_title, question_content, public_test_cases, private_test_cases (stdin tests)',
  detect: (r) => has(r, 'question_content'),
  parse: parseLiveCodeBench,
};

/** Whether `v` is a non-empty list whose first item looks like `{ input, output }`. */
function looksLikeIoList(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  const first = v[0] as unknown;
  return first !== null && typeof first === 'object' && 'input' in first && 'output' in first;
}

export const stdio: FormatSpec = {
  name: 'stdio',
  task: 'code',
  describe: 'stdio: id, prompt, tests (list of {input, output})',
  detect: (r) =>
    has(r, 'id') &&
    has(r, 'prompt') &&
    looksLikeIoList(r.tests) &&
    !has(r, 'answer') &&
    !has(r, 'entry_point') &&
    !has(r, 'response'),
  parse: parseStdio,
};
