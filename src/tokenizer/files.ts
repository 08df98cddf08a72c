/**
 * Reading the tokenizer files of a Hugging Face model folder:
 * - `tokenizer.json` (required): the fast-tokenizer definition;
 * - `tokenizer_config.json` (optional; missing = {}): special tokens, add_bos_token, chat_template…;
 * - `special_tokens_map.json` (optional): fills special tokens the config does not name;
 * - chat templates, with transformers' precedence: `chat_template.jinja` (replaces the config's
 *   template), else `chat_template` of tokenizer_config.json (a string, or a list of
 *   {name, template}), else `chat_template.json` ({"chat_template": …}); named templates also come
 *   from `additional_chat_templates/<name>.jinja`.
 * Missing required files, unreadable files and malformed JSON are LeafErrors naming the file.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LeafError } from '../errors.js';
import type { ChatTemplates } from './chat-template.js';

/** The parsed tokenizer files of one folder. */
export interface TokenizerFiles {
  /** The folder (used in error messages). */
  source: string;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  chatTemplates: ChatTemplates;
}

/** Special-token fields of tokenizer_config.json / special_tokens_map.json. */
export const SPECIAL_TOKEN_KEYS = [
  'bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token',
] as const;
export type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];

/**
 * The text of a special-token field: a string, or an AddedToken object `{content: …}` (as older
 * transformers versions save them). Null when absent or not a token.
 */
export function tokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

function errorCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ENOENT') throw new LeafError(`${file}: file not found`);
    throw new LeafError(`${file}: cannot read (${code})`);
  }
}

/** Reads a JSON file that must hold an object. */
export function readJsonObject(file: string): Record<string, unknown> {
  const text = readText(file);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new LeafError(`${file}: invalid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new LeafError(`${file}: expected a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * The chat templates held by a tokenizer_config.json `chat_template` value (string or list of
 * {name, template}); `where` names the file in errors.
 */
export function parseConfigChatTemplate(value: unknown, where: string): ChatTemplates {
  if (value === undefined || value === null) return { default: null, named: {} };
  if (typeof value === 'string') return { default: value, named: {} };
  if (Array.isArray(value)) {
    const named: Record<string, string> = {};
    for (const [i, entry] of value.entries()) {
      const e = entry as { name?: unknown; template?: unknown } | null;
      if (!e || typeof e.name !== 'string' || typeof e.template !== 'string') {
        throw new LeafError(`${where}: chat_template[${i}] must be {"name": string, "template": string}`);
      }
      named[e.name] = e.template;
    }
    const def = Object.hasOwn(named, 'default') ? named.default! : null;
    delete named.default;
    return { default: def, named };
  }
  throw new LeafError(`${where}: chat_template must be a string or a list of {name, template}`);
}

/** Reads the tokenizer files of a model folder. */
export function readTokenizerFiles(dir: string): TokenizerFiles {
  const tokFile = join(dir, 'tokenizer.json');
  const tokenizerJson = readJsonObject(tokFile);

  const cfgFile = join(dir, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(cfgFile) ? readJsonObject(cfgFile) : {};

  const mapFile = join(dir, 'special_tokens_map.json');
  if (existsSync(mapFile)) {
    const map = readJsonObject(mapFile);
    for (const key of [...SPECIAL_TOKEN_KEYS, 'additional_special_tokens']) {
      if (tokenizerConfig[key] === undefined && map[key] !== undefined) tokenizerConfig[key] = map[key];
    }
  }

  let templates = parseConfigChatTemplate(tokenizerConfig.chat_template, cfgFile);
  const jinjaFile = join(dir, 'chat_template.jinja');
  const jsonTemplateFile = join(dir, 'chat_template.json');
  if (existsSync(jinjaFile)) {
    templates = { default: readText(jinjaFile), named: templates.named };
  } else if (templates.default === null && Object.keys(templates.named).length === 0 && existsSync(jsonTemplateFile)) {
    templates = parseConfigChatTemplate(readJsonObject(jsonTemplateFile).chat_template, jsonTemplateFile);
  }
  const extraDir = join(dir, 'additional_chat_templates');
  if (existsSync(extraDir)) {
    const named: Record<string, string> = { ...templates.named };
    for (const f of readdirSync(extraDir).sort()) {
      if (f.endsWith('.jinja')) named[f.slice(0, -'.jinja'.length)] = readText(join(extraDir, f));
    }
    templates = { default: templates.default, named };
  }
  return { source: dir, tokenizerJson, tokenizerConfig, chatTemplates: templates };
}
