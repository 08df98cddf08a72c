import type { Command } from 'commander';
import { LeafError } from '../errors.js';
import { loadPretrained } from '../model/pretrained.js';
import { generateText } from '../model/text-generation.js';
import { MODEL_SPEC } from '../model/weights.js';
import { resolveSpec } from '../util/option-spec.js';
import { intArg, numArg } from './args.js';
import { addSpecOptions } from './spec-options.js';
import { warnLine } from './args.js';

interface GenerateFlags {
  model: string;
  dtype?: string;
  prompt: string[];
  chat?: boolean;
  system?: string;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stop: string[];
  json?: boolean;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description('continue one or more prompts with a model (greedy by default)')
    .requiredOption('--model <dir>', 'Hugging Face model folder');
  addSpecOptions(cmd, MODEL_SPEC)
    .requiredOption('--prompt <text>', 'prompt text (repeat for a batch)', collect)
    .option('--chat', 'render the prompt as a user turn of the model\'s chat template')
    .option('--system <text>', 'system message (with --chat)')
    .option('--max-new-tokens <n>', 'maximum new tokens', intArg('--max-new-tokens', 1), 128)
    .option('--temperature <t>', '0 = greedy; > 0 samples', numArg('--temperature', 0), 0)
    .option('--top-p <p>', 'nucleus sampling mass', numArg('--top-p', 0, 1), 1)
    .option('--seed <s>', 'sampling seed', intArg('--seed', 0), 0)
    .option('--stop <string>', 'stop string (repeatable)', collect, [])
    .option('--json', 'print one JSON object per prompt')
    .action((f: GenerateFlags) => {
      if (f.system !== undefined && f.chat !== true) warnLine('--system only applies with --chat; ignored');
      const p = loadPretrained(f.model, resolveSpec(MODEL_SPEC, f));
      const started = Date.now();
      const out = generateText(p, f.prompt, {
        chat: f.chat === true, system: f.system, maxNewTokens: f.maxNewTokens,
        temperature: f.temperature, topP: f.topP, seed: f.seed, stop: f.stop,
      });
      const seconds = (Date.now() - started) / 1000;
      out.forEach((g, i) => {
        if (f.json) process.stdout.write(JSON.stringify({ prompt: f.prompt[i], text: g.text, tokens: g.tokens.length, finish: g.finish }) + '\n');
        else process.stdout.write((f.prompt.length > 1 ? `--- [${i}] ${f.prompt[i]}\n` : '') + g.text + '\n');
      });
      const n = out.reduce((a, g) => a + g.tokens.length, 0);
      process.stderr.write(`leaf: ${n} tokens in ${seconds.toFixed(2)} s (${(n / seconds).toFixed(1)} tokens/s, kernels: ${p.model.kernels.name})\n`);
      const refused = out.flatMap((g, i) => (g.refused ? [`prompt ${i + 1} refused: ${g.refused}`] : []));
      if (refused.length > 0) throw new LeafError(refused.join('; '));
    });
}
