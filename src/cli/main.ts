#!/usr/bin/env node
import { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LeafError } from '../errors.js';
import { DEFAULT_MAX_LINE_BYTES, maxLineBytes } from '../data/jsonl.js';
import { intArg } from './args.js';
import { formatInspect, inspectModel } from './inspect.js';
import { registerDistill } from './distill.js';
import { registerEval } from './eval.js';
import { registerGenerate } from './generate.js';
import { registerDemo } from './demo.js';
import { registerReport } from './report.js';
import { registerMine } from './mine.js';
import { registerMerge } from './merge.js';
import { registerExport } from './export.js';
import { registerTeacherCache } from './teacher-cache.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('leaf')
    .description('LeaF: learning to focus — causal attention distillation for Llama/Qwen2 checkpoints')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .option('--max-line-bytes <n>', `longest input JSONL line read, in bytes (default ${DEFAULT_MAX_LINE_BYTES}); a longer line stops with FILE:LINE`, intArg('--max-line-bytes', 1))
    .hook('preAction', () => {
      const cap = program.opts<{ maxLineBytes?: number }>().maxLineBytes;
      maxLineBytes(cap ?? DEFAULT_MAX_LINE_BYTES);
    });

  program
    .command('inspect')
    .description('describe a Hugging Face model folder: architecture, parameters, dtypes, memory')
    .argument('<dir>', 'model folder (config.json + *.safetensors)')
    .option('--json', 'print JSON')
    .option('--headers-only', 'do not read the weights (skips the NaN/Inf scan)')
    .action((dir: string, opts: { json?: boolean; headersOnly?: boolean }) => {
      const r = inspectModel(dir, { headersOnly: opts.headersOnly === true });
      process.stdout.write((opts.json ? JSON.stringify(r, null, 2) : formatInspect(r)) + '\n');
      if (r.nonFinite && r.nonFinite.length > 0) throw new LeafError(`${dir}: ${r.nonFinite.length} tensors hold NaN or ±Inf values (first: ${r.nonFinite[0].tensor}); loading refuses this checkpoint`);
    });

  registerGenerate(program);
  registerEval(program);
  registerMine(program);
  registerMerge(program);
  registerExport(program);
  registerTeacherCache(program);
  registerDistill(program);
  registerDemo(program);
  registerReport(program);
  return program;
}

/** Runs the CLI; a LeafError becomes one line on stderr and exit status 1 (no stack trace). */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof LeafError) {
      process.stderr.write(`leaf: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
