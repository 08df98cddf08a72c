import type { Command } from 'commander';
import { LeafError } from '../errors.js';
import { exportChat } from '../training/chat-export.js';
import { warnLine } from './args.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a mining run\'s distillation set (originals + verified counterfactuals) for GPU trainers: --format chat-jsonl (messages + id, kind, source_id, removed), as TRL and LLaMA-Factory read')
    .requiredOption('--format <name>', 'chat-jsonl')
    .requiredOption('--mined <dir>', 'leaf mine output folder (or a leaf merge of its shards)')
    .requiredOption('--out <file>', 'JSONL file to write')
    .option('--data <file>', 'the originals (train.jsonl with responses; default: the mined input named in MINED/run.json)')
    .option('--system <text>', 'add a system turn to every conversation (leaf distill renders none: the template\'s default)')
    .option('--strict', 'stop at the first malformed input line instead of skipping it')
    .action((f: { format: string; mined: string; out: string; data?: string; system?: string; strict?: boolean }) => {
      if (f.format !== 'chat-jsonl') throw new LeafError(`--format must be chat-jsonl, got ${f.format}`);
      const n = exportChat({
        mined: f.mined, out: f.out, onWarning: warnLine,
        ...(f.data !== undefined ? { data: f.data } : {}), ...(f.system !== undefined ? { system: f.system } : {}), ...(f.strict ? { strict: true } : {}),
      });
      process.stdout.write(`${n.originals} originals and ${n.counterfactuals} counterfactuals (${n.unverified} rejected by verification left out) → ${f.out}\n`);
    });
}
