import assert from 'node:assert/strict';
import { test } from 'node:test';

// The package resolves its own name through package.json "exports" (self-reference), as a user's import would.
test("the package's entry points: 'leaf' (engine, stages, formats), 'leaf/tokenizer' and 'leaf/kernels'", async () => {
  const leaf = await import('leaf' as string) as Record<string, unknown>;
  for (const name of ['loadModel', 'generate', 'LeafTokenizer', 'mine', 'distill', 'runEval', 'runDemo', 'RunFolder', 'readJsonl', 'DISTILL_SPEC']) {
    assert.ok(leaf[name] !== undefined, `leaf exports ${name}`);
  }
  assert.equal(leaf.OffsetAligner, undefined, "the tokenizer's internals are not in the main entry point");
  const tokenizer = await import('leaf/tokenizer' as string) as Record<string, unknown>;
  for (const name of ['LeafTokenizer', 'OffsetAligner', 'ChatRenderer', 'writeWordLevelTokenizer']) assert.ok(tokenizer[name] !== undefined, `leaf/tokenizer exports ${name}`);
  assert.equal(tokenizer.LeafTokenizer, leaf.LeafTokenizer);
  const kernels = await import('leaf/kernels' as string) as Record<string, unknown>;
  for (const name of ['getKernels', 'jsKernels', 'nativeKernelsOrNull']) assert.ok(kernels[name] !== undefined, `leaf/kernels exports ${name}`);
  await assert.rejects(import('leaf/dist/src/method/mine.js' as string), /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});
