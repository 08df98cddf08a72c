import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LeafError } from '../../src/errors.js';
import { SafetensorsReader, MAX_HEADER_BYTES, numel } from '../../src/io/safetensors.js';
import { safetensorsLayout, writeSafetensors } from '../../src/io/safetensors-write.js';
import { f32Bits, roundToBf16, roundToF16 } from '../../src/io/dtype.js';
import { goldenDir } from '../helpers/paths.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-st-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

/** Writes a raw safetensors-like file: u64 header length (default: the real one), header, data. */
function craft(header: unknown, data: Uint8Array | number = 0, headerLen?: bigint): string {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLen ?? BigInt(h.length));
  const body = typeof data === 'number' ? Buffer.alloc(data, 7) : Buffer.from(data);
  const file = path.join(tmp, `crafted-${counter++}.safetensors`);
  fs.writeFileSync(file, Buffer.concat([len, h, body]));
  return file;
}

/** A valid two-tensor header: a F32 [2,2] at [0,16), b F16 [3] at [16,22). */
function goodHeader(): Record<string, any> {
  return {
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
    b: { dtype: 'F16', shape: [3], data_offsets: [16, 22] },
  };
}

/** Asserts that opening `file` fails with a LeafError whose message names the file and each of `parts`. */
function expectOpenError(file: string, ...parts: Array<string | RegExp>): LeafError {
  let caught: unknown;
  try {
    SafetensorsReader.open(file).close();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof LeafError, `expected LeafError, got ${String(caught)}`);
  const msg = caught.message;
  assert.ok(!msg.includes('\n'), 'one line');
  assert.ok(msg.startsWith(`${file}: `), `message names the file: ${msg}`);
  for (const p of parts) {
    if (typeof p === 'string') assert.ok(msg.includes(p), `message ${JSON.stringify(msg)} should contain ${JSON.stringify(p)}`);
    else assert.match(msg, p);
  }
  return caught;
}

function openFdCount(): number | undefined {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

describe('safetensors reader: named errors', () => {
  test('a valid crafted file opens (baseline for the mutations below)', () => {
    const r = SafetensorsReader.open(craft(goodHeader(), 22));
    assert.deepEqual([...r.tensors.keys()], ['a', 'b']);
    assert.deepEqual(r.metadata, { format: 'pt' });
    r.close();
  });

  test('file shorter than 8 bytes', () => {
    for (const n of [0, 1, 7]) {
      const file = path.join(tmp, `short-${n}.safetensors`);
      fs.writeFileSync(file, Buffer.alloc(n));
      expectOpenError(file, `${n} bytes`, 'too short');
    }
  });

  test('header length past the end of the file', () => {
    expectOpenError(craft(goodHeader(), 22, 100_000n), 'header length 100000', 'past the end of the file');
    expectOpenError(craft('{}', 0, 3n), 'header length 3', 'past the end');
  });

  test('absurd header length (> 100 MB)', () => {
    expectOpenError(craft(goodHeader(), 22, BigInt(MAX_HEADER_BYTES) + 1n), 'header length 100000001', 'limit');
    expectOpenError(craft(goodHeader(), 22, 0xffffffffffffffffn), 'header length 18446744073709551615', 'limit');
  });

  test('header not valid UTF-8', () => {
    const text = Buffer.from(JSON.stringify(goodHeader()), 'utf8');
    const at = text.indexOf('format') + 1;
    text[at] = 0xff; // craft() would re-encode a string as UTF-8, so write the raw bytes here
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    const file = path.join(tmp, 'bad-utf8.safetensors');
    fs.writeFileSync(file, Buffer.concat([len, text, Buffer.alloc(22)]));
    expectOpenError(file, 'header is not valid UTF-8');
  });

  test('header not JSON, or not an object', () => {
    expectOpenError(craft('{"a": {', 0), 'header is not valid JSON');
    expectOpenError(craft('[1, 2]', 0), 'does not start with "{"');
    expectOpenError(craft('   ', 0), 'does not start with "{"');
    expectOpenError(craft('', 0), 'does not start with "{"');
    expectOpenError(craft('{} x', 0), 'not valid JSON');
  });

  test('__metadata__ not an object of strings', () => {
    const h = goodHeader();
    h['__metadata__'] = ['x'];
    expectOpenError(craft(h, 22), '"__metadata__" must be an object');
    h['__metadata__'] = { format: 'pt', step: 3 };
    expectOpenError(craft(h, 22), '"__metadata__" field "step" must be a string');
  });

  test('tensor entry not an object', () => {
    const h = goodHeader();
    h['b'] = [16, 22];
    expectOpenError(craft(h, 22), 'tensor "b"', 'must be an object');
  });

  test('missing dtype / shape / data_offsets', () => {
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      const h = goodHeader();
      delete h['b'][field];
      expectOpenError(craft(h, 22), 'tensor "b"', `missing "${field}"`);
    }
  });

  test('dtype of the wrong type, or unknown', () => {
    const h = goodHeader();
    h['b'].dtype = 16;
    expectOpenError(craft(h, 22), 'tensor "b"', '"dtype" must be a string');
    h['b'].dtype = 'F15';
    expectOpenError(craft(h, 22), 'tensor "b"', 'unknown dtype "F15"');
    h['b'].dtype = 'f16';
    expectOpenError(craft(h, 22), 'tensor "b"', 'unknown dtype "f16"');
    h['b'].dtype = 'toString'; // not fooled by Object.prototype
    expectOpenError(craft(h, 22), 'tensor "b"', 'unknown dtype "toString"');
  });

  test('shape not an array of non-negative integers', () => {
    for (const shape of [[-3], [1.5, 2], ['3'], 3, null, [3, null], [2 ** 53]]) {
      const h = goodHeader();
      h['b'].shape = shape;
      expectOpenError(craft(h, 22), 'tensor "b"', '"shape" must be an array of non-negative integers');
    }
  });

  test('data_offsets not [begin <= end] integers', () => {
    for (const offs of [[22, 16], [16], [16, 22, 24], [16.5, 22], [-1, 22], ['16', '22'], 16, null, [16, 2 ** 53]]) {
      const h = goodHeader();
      h['b'].data_offsets = offs;
      expectOpenError(craft(h, 22), 'tensor "b"', '"data_offsets" must be [begin, end]');
    }
  });

  test('offsets past the end of the data section', () => {
    const h = goodHeader();
    h['b'].data_offsets = [16, 30];
    expectOpenError(craft(h, 22), 'tensor "b"', 'data_offsets [16, 30] run past the end of the data section (22 bytes)');
  });

  test('a truncated file is caught at open time', () => {
    const file = path.join(tmp, 'trunc.safetensors');
    writeSafetensors(file, [
      { name: 'x', dtype: 'F32', shape: [4, 4], data: new Float32Array(16) },
      { name: 'y', dtype: 'BF16', shape: [5], data: new Float32Array(5) },
    ]);
    const full = fs.readFileSync(file);
    for (const cut of [full.length - 1, full.length - 10, full.length - 11, 9, 8]) {
      const t = path.join(tmp, `trunc-${cut}.safetensors`);
      fs.writeFileSync(t, full.subarray(0, cut));
      const err = expectOpenError(t);
      assert.match(err.message, /truncated/);
    }
  });

  test('byte count different from product(shape) x dtype size', () => {
    const h = goodHeader();
    h['b'].shape = [4];
    expectOpenError(craft(h, 22), 'tensor "b"', 'hold 6 bytes but shape [4] of F16 needs 8');
    h['b'].shape = [];
    expectOpenError(craft(h, 22), 'tensor "b"', 'needs 2');
    h['b'].shape = [2 ** 40, 2 ** 40, 2 ** 40];
    expectOpenError(craft(h, 22), 'tensor "b"', 'needs more than the 22-byte data section');
    h['b'].dtype = 'F4';
    h['b'].shape = [13]; // 6.5 bytes
    expectOpenError(craft(h, 22), 'tensor "b"', 'needs 6.5');
  });

  test('overlapping tensors', () => {
    const h = goodHeader();
    h['b'] = { dtype: 'F16', shape: [3], data_offsets: [14, 20] };
    h['c'] = { dtype: 'U8', shape: [2], data_offsets: [20, 22] };
    expectOpenError(craft(h, 22), 'tensors "a" [0, 16] and "b" [14, 20] overlap');
    const same = goodHeader();
    same['c'] = { ...same['b'] };
    expectOpenError(craft(same, 22), '"b" [16, 22] and "c" [16, 22] overlap');
  });

  test('gaps between, before and after tensors are rejected (data must be contiguous)', () => {
    const mid = goodHeader();
    mid['b'].data_offsets = [18, 24];
    expectOpenError(craft(mid, 24), 'bytes [16, 18)', 'before tensor "b"', 'contiguous');
    const start = goodHeader();
    start['a'].data_offsets = [2, 18];
    start['b'].data_offsets = [18, 24];
    expectOpenError(craft(start, 24), 'bytes [0, 2)', 'before tensor "a"');
    expectOpenError(craft(goodHeader(), 25), '3 bytes after the last tensor ("b")', 'contiguous');
    expectOpenError(craft({}, 5), '5 bytes after the last tensor belong to no tensor');
  });

  test('zero-size tensors and empty files are fine', () => {
    const h = goodHeader();
    h['empty'] = { dtype: 'F32', shape: [0, 5], data_offsets: [16, 16] };
    h['scalar'] = { dtype: 'U8', shape: [], data_offsets: [22, 23] };
    const r = SafetensorsReader.open(craft(h, 23));
    assert.equal(r.readFloat32('empty').length, 0);
    assert.deepEqual([...r.readBytes('scalar')], [7]);
    r.close();
    const e = SafetensorsReader.open(craft({}, 0));
    assert.equal(e.tensors.size, 0);
    assert.deepEqual(e.metadata, {});
    e.close();
  });

  test('header padded with trailing spaces is accepted, unknown entry fields ignored', () => {
    const h = goodHeader();
    h['a'].extra = 'ignored';
    const r = SafetensorsReader.open(craft(`${JSON.stringify(h)}      `, 22));
    assert.equal(r.dataStart, 8 + JSON.stringify(h).length + 6);
    r.close();
  });

  test('names with quotes, newlines and "__proto__" are handled and quoted in messages', () => {
    const proto = { dtype: 'U8', shape: [1], data_offsets: [0, 1] };
    const weird = { dtype: 'U8', shape: [2], data_offsets: [1, 4] };
    const text = `{"__proto__":${JSON.stringify(proto)},${JSON.stringify('we"ird\nname')}:${JSON.stringify(weird)}}`;
    const err = expectOpenError(craft(text, 4), 'tensor "we\\"ird\\nname"', 'hold 3 bytes');
    assert.ok(!err.message.includes('\n'));
    const ok = `{"__proto__":${JSON.stringify(proto)}}`;
    const r = SafetensorsReader.open(craft(ok, 1));
    assert.deepEqual([...r.tensors.keys()], ['__proto__']);
    r.close();
  });

  test('missing file, a folder instead of a file', () => {
    const missing = path.join(tmp, 'nope.safetensors');
    expectOpenError(missing, 'ENOENT');
    expectOpenError(tmp, 'not a regular file');
  });

  test('failed opens do not leak file descriptors', () => {
    const before = openFdCount();
    if (before === undefined) return;
    const h = goodHeader();
    h['b'].dtype = 'nope';
    const bad = craft(h, 22);
    for (let i = 0; i < 200; i++) assert.throws(() => SafetensorsReader.open(bad), LeafError);
    assert.equal(openFdCount(), before);
  });
});

describe('safetensors reader: reading', () => {
  test('refuses non-float dtypes, unknown names, wrong destinations, reads after close', () => {
    const h = goodHeader();
    h['c'] = { dtype: 'I32', shape: [2], data_offsets: [22, 30] };
    const file = craft(h, 30);
    const r = SafetensorsReader.open(file);
    assert.throws(() => r.readFloat32('c'), (e: unknown) => e instanceof LeafError && e.message.startsWith(`${file}: tensor "c": dtype I32 cannot be read as float32`));
    assert.throws(() => r.readFloat32('zz'), (e: unknown) => e instanceof LeafError && e.message === `${file}: no tensor "zz" in this file`);
    assert.throws(() => r.readFloat32('a', new Float32Array(3)), (e: unknown) => e instanceof LeafError && /tensor "a": destination has 3 elements, tensor has 4/.test(e.message));
    assert.equal(r.readBytes('c').length, 8);
    r.close();
    r.close();
    assert.throws(() => r.readFloat32('a'), (e: unknown) => e instanceof LeafError && e.message.includes(`${file}: cannot read tensor "a": reader is closed`));
  });

  test('a file shrunk after opening gives a LeafError at read time', () => {
    const file = path.join(tmp, 'shrink.safetensors');
    writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [64], data: new Float32Array(64).fill(1) }]);
    const r = SafetensorsReader.open(file);
    fs.truncateSync(file, r.dataStart + 10);
    assert.throws(() => r.readFloat32('w'), (e: unknown) => e instanceof LeafError && /tensor "w"; was it changed after it was opened/.test(e.message));
    r.close();
  });

  test('F64 is narrowed to float32 (round to nearest), across scratch chunks', () => {
    const n = (1 << 17) + 5;
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) vals[i] = Math.sin(i) * 1e3 + 1 / 3;
    const file = craft({ d: { dtype: 'F64', shape: [n], data_offsets: [0, n * 8] } }, new Uint8Array(vals.buffer));
    const r = SafetensorsReader.open(file);
    const out = r.readFloat32('d');
    r.close();
    assert.deepEqual(out, Float32Array.from(vals));
  });
});

describe('safetensors writer', () => {
  const special = [0, -0, 1, -1, 0.1, 1 / 3, 65504, 65520, 1e5, -1e-8, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 2 ** -8, Infinity, -Infinity, NaN, 3.4e38, 1e-40];

  test('round trip F32 / F16 / BF16: bit-exact for representable values, RNE otherwise', () => {
    const base = new Float32Array(special.length + 500);
    base.set(special);
    for (let i = special.length; i < base.length; i++) base[i] = Math.sin(i * 12.9898) * 10 ** ((i % 13) - 6);
    const file = path.join(tmp, 'rt.safetensors');
    writeSafetensors(
      file,
      [
        { name: 'f32', dtype: 'F32', shape: [base.length], data: base },
        { name: 'f16', dtype: 'F16', shape: [base.length], data: base },
        { name: 'bf16', dtype: 'BF16', shape: [base.length], data: base },
        { name: 'f16.exact', dtype: 'F16', shape: [base.length], data: roundToF16(base, new Float32Array(base.length)) },
        { name: 'matrix', dtype: 'F32', shape: [2, 3, 1], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        { name: 'none', dtype: 'BF16', shape: [0], data: new Float32Array(0) },
      ],
      { format: 'pt', note: 'π "quoted"' },
    );
    const r = SafetensorsReader.open(file);
    assert.deepEqual(r.metadata, { format: 'pt', note: 'π "quoted"' });
    const bits = (a: Float32Array) => Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : f32Bits(v)));
    assert.deepEqual(bits(r.readFloat32('f32')), bits(base));
    assert.deepEqual(bits(r.readFloat32('f16')), bits(roundToF16(base, new Float32Array(base.length))));
    assert.deepEqual(bits(r.readFloat32('bf16')), bits(roundToBf16(base, new Float32Array(base.length))));
    assert.deepEqual(bits(r.readFloat32('f16.exact')), bits(roundToF16(base, new Float32Array(base.length))));
    const f16 = r.readFloat32('f16');
    assert.ok(Object.is(f16[1], -0));
    assert.equal(f16[7], Infinity, '65520 ties to Inf');
    assert.equal(f16[10], 2 ** -24);
    assert.equal(f16[11], 0, '2^-25 ties to 0');
    assert.equal(f16[12], 2 ** -23, '3*2^-25 ties to even');
    assert.equal(f16[13], 1, '1+2^-11 ties to 1');
    assert.ok(Number.isNaN(f16[17]));
    const bf = r.readFloat32('bf16');
    assert.equal(bf[14], 1, '1+2^-8 ties to 1 in bf16');
    assert.equal(bf[7], 65536);
    assert.ok(Number.isNaN(bf[17]));
    assert.deepEqual(r.entry('matrix').shape, [2, 3, 1]);
    assert.deepEqual(r.readFloat32('matrix'), new Float32Array([1, 2, 3, 4, 5, 6]));
    assert.equal(r.readFloat32('none').length, 0);
    // readFloat32 into a caller's array (also a subarray at an offset)
    const big = new Float32Array(base.length + 8);
    const into = big.subarray(4, 4 + base.length);
    assert.equal(r.readFloat32('bf16', into), into);
    assert.deepEqual(bits(into), bits(r.readFloat32('bf16')));
    assert.deepEqual([...big.subarray(0, 4), ...big.subarray(4 + base.length)], new Array(8).fill(0));
    r.close();
  });

  test('layout like the official library: __metadata__ first, F32 then BF16 then F16, names in byte order, 8-byte aligned, space padded', () => {
    const t = (name: string, dtype: 'F32' | 'F16' | 'BF16', n: number) => ({ name, dtype, shape: [n], data: new Float32Array(n) });
    const { header } = safetensorsLayout('x', [t('z16', 'F16', 1), t('b', 'BF16', 1), t('a16', 'F16', 3), t('Z', 'F32', 1), t('a', 'F32', 2), t('é', 'F32', 1), t('f', 'F32', 1)], { k: 'v' });
    const n = Number(header.readBigUInt64LE(0));
    assert.equal(header.length, 8 + n);
    assert.equal((8 + n) % 8, 0);
    const text = header.subarray(8).toString('utf8');
    assert.equal(
      text.trimEnd(),
      '{"__metadata__":{"k":"v"},"Z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},' +
        '"f":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},"é":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
        '"b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]},"a16":{"dtype":"F16","shape":[3],"data_offsets":[22,28]},' +
        '"z16":{"dtype":"F16","shape":[1],"data_offsets":[28,30]}}',
    );
    assert.match(text, /^\{.*\} {0,7}$/);
    const noMeta = safetensorsLayout('x', [t('a', 'F32', 1)]).header.subarray(8).toString('utf8');
    assert.ok(!noMeta.includes('__metadata__'));
  });

  test('data sections of the real fixtures are reproduced byte for byte', () => {
    for (const [name, dtype] of [
      ['llama-gqa-f32', 'F32'],
      ['llama3-rope-tied-f16', 'F16'],
      ['qwen2-tied-bias-bf16', 'BF16'],
    ] as const) {
      const src = path.join(goldenDir, name, 'model.safetensors');
      const r = SafetensorsReader.open(src);
      const tensors = [...r.tensors.values()].map((e) => ({ name: e.name, dtype, shape: e.shape, data: r.readFloat32(e.name) }));
      const out = path.join(tmp, `${name}.safetensors`);
      writeSafetensors(out, tensors, { ...r.metadata });
      const a = fs.readFileSync(src).subarray(r.dataStart);
      const w = SafetensorsReader.open(out);
      const b = fs.readFileSync(out).subarray(w.dataStart);
      assert.ok(a.equals(b), `${name}: data section differs`);
      for (const e of r.tensors.values()) {
        const we = w.entry(e.name);
        assert.deepEqual([we.dtype, we.shape, we.end - we.begin], [e.dtype, e.shape, e.end - e.begin]);
        assert.equal(we.begin - w.dataStart, e.begin - r.dataStart);
      }
      r.close();
      w.close();
    }
  });

  test('invalid input is refused with a LeafError naming file and tensor', () => {
    const file = path.join(tmp, 'bad-write.safetensors');
    const d = new Float32Array(4);
    const cases: Array<[any[], string]> = [
      [[{ name: 'a', dtype: 'F32', shape: [3], data: d }], 'tensor "a": data has 4 elements but shape [3] needs 3'],
      [[{ name: 'a', dtype: 'F32', shape: [4], data: d }, { name: 'a', dtype: 'F16', shape: [4], data: d }], 'tensor "a": name appears twice'],
      [[{ name: '__metadata__', dtype: 'F32', shape: [4], data: d }], 'tensor "__metadata__": "__metadata__" is reserved'],
      [[{ name: 'a', dtype: 'I32', shape: [4], data: d }], 'tensor "a": cannot write dtype "I32"'],
      [[{ name: 'a', dtype: 'F32', shape: [-4], data: d }], 'tensor "a": shape must be an array of non-negative integers'],
      [[{ name: 'x\uD800', dtype: 'F32', shape: [4], data: d }], 'name must be a well-formed string'],
    ];
    for (const [tensors, msg] of cases) {
      assert.throws(
        () => writeSafetensors(file, tensors),
        (e: unknown) => e instanceof LeafError && e.message.startsWith(`${file}: `) && e.message.includes(msg),
        msg,
      );
    }
    assert.throws(() => writeSafetensors(file, [], { k: 3 as unknown as string }), (e: unknown) => e instanceof LeafError && e.message.includes('"__metadata__" field "k"'));
    assert.ok(!fs.existsSync(file));
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);
  });
});

describe('real fixtures (test/fixtures/golden)', () => {
  // float64 sums of every element, computed with numpy from the files
  const expected: Record<string, { dtype: string; tensors: number; elements: number; sum: number }> = {
    'llama-gqa-f32': { dtype: 'F32', tensors: 21, elements: 24800, sum: 170.35781117618444 },
    'llama3-rope-tied-f16': { dtype: 'F16', tensors: 11, elements: 13440, sum: 94.97637265920639 },
    'qwen2-tied-bias-bf16': { dtype: 'BF16', tensors: 26, elements: 45184, sum: 268.24250653386116 },
  };
  for (const [name, exp] of Object.entries(expected)) {
    test(name, () => {
      const file = path.join(goldenDir, name, 'model.safetensors');
      const config = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'config.json'), 'utf8'));
      const r = SafetensorsReader.open(file);
      assert.equal(r.tensors.size, exp.tensors);
      assert.equal(r.metadata['format'], 'pt');
      let sum = 0;
      let count = 0;
      for (const e of r.tensors.values()) {
        assert.equal(e.dtype, exp.dtype);
        const v = r.readFloat32(e.name);
        assert.equal(v.length, numel(e.shape));
        for (const x of v) {
          assert.ok(Number.isFinite(x));
          sum += x;
        }
        count += v.length;
      }
      assert.equal(count, exp.elements);
      assert.ok(Math.abs(sum - exp.sum) <= 1e-9 * Math.abs(exp.sum), `${sum} vs ${exp.sum}`);
      const emb = r.entry('model.embed_tokens.weight');
      assert.deepEqual(emb.shape, [config.vocab_size, config.hidden_size]);
      assert.equal(r.tensors.has('lm_head.weight'), !config.tie_word_embeddings);
      r.close();
    });
  }
});
