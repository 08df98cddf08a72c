/**
 * Chat templates: rendering a conversation to text exactly as transformers'
 * `apply_chat_template(messages, tokenize=False, add_generation_prompt=…)` does, and locating
 * each message's content in the rendered text.
 *
 * Rendering follows transformers' `render_jinja_template`: the template is compiled with
 * trim_blocks and lstrip_blocks (@huggingface/jinja applies both itself, and drops one trailing
 * newline of the template like Jinja's default keep_trailing_newline=False) and rendered with
 * `messages`, `tools` (none unless given), `documents` (none unless given),
 * `add_generation_prompt`, the special-token strings (`bos_token`, `eos_token`, `unk_token`,
 * `pad_token`, … — only those the tokenizer defines, as transformers' special_tokens_map), any
 * extra template keyword arguments, and the globals `raise_exception(msg)` (throws a LeafError)
 * and `strftime_now(fmt)` (local time, Python's strftime in the C locale). A render is bounded in steps,
 * value sizes and time (template-limits.ts): a template that loops without end is a one-line LeafError.
 *
 * Content spans: the conversation is rendered once more with each content replaced by a unique
 * sentinel; the sentinels are located, the real contents substituted, and the result must equal
 * the direct render. When the template transforms contents (`| trim`, reasoning stripped, …) each
 * message is located on its own: rendered with only its content replaced, the text before and
 * after the sentinel must frame the direct render, and the span is what lies between. Failing
 * that, the content (then its trimmed form) is searched for verbatim; if it cannot be found the
 * render throws a LeafError naming the message.
 */

import { Environment, Template } from '@huggingface/jinja';
import { LeafError } from '../errors.js';
import type { CharSpan } from './offsets.js';
import { strftime } from './strftime.js';
import { BoundedInterpreter, boundedRange, TemplateLimitError } from './template-limits.js';

/** One conversation turn. Extra fields (tool_calls, name, …) are passed to the template as is. */
export interface ChatMessage {
  role: string;
  content: string;
  [field: string]: unknown;
}

/** The chat templates of a tokenizer: the default one and any named ones (e.g. `tool_use`). */
export interface ChatTemplates {
  default: string | null;
  named: Readonly<Record<string, string>>;
}

export interface ChatRenderOptions {
  /** Append the header that opens an assistant turn (default false). */
  addGenerationPrompt?: boolean;
  /**
   * transformers' continue_final_message: render, then cut the text right after the final
   * message's content so that the model continues it (incompatible with addGenerationPrompt).
   */
  continueFinalMessage?: boolean;
  /** Ignore the chat template and use the plain format (see {@link PLAIN_SEPARATOR}). */
  plain?: boolean;
  /** Which named template to use (default: transformers' choice — `tool_use` with tools, else `default`). */
  templateName?: string;
  /** Passed to the template as `tools` (default none). */
  tools?: readonly unknown[] | null;
  /** Passed to the template as `documents` (default none). */
  documents?: readonly unknown[] | null;
  /** Extra template variables (transformers' **kwargs of apply_chat_template, e.g. enable_thinking). */
  templateKwargs?: Readonly<Record<string, unknown>>;
  /** Clock for `strftime_now` (default: the current time). */
  now?: () => Date;
}

/** A rendered conversation. */
export interface RenderedChat {
  text: string;
  /** Per message, the range of its content inside `text`, in template order of the messages given. */
  contentSpans: CharSpan[];
  /** False when no chat template was used (the tokenizer has none, or `plain` was asked for). */
  templated: boolean;
}

/** A rendered prompt (with generation prompt) followed by the start of the assistant's answer. */
export interface RenderedPromptWithPrefix extends RenderedChat {
  /** The range of the assistant prefix: from the end of the rendered prompt to text.length. */
  prefixSpan: CharSpan;
}

/**
 * The plain format used without a chat template: the message contents, separated by this string,
 * with no role markers; a generation prompt adds nothing, and an assistant prefix is appended
 * directly. A single message renders as its content, unchanged.
 */
export const PLAIN_SEPARATOR = '\n\n';

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Checks the shape of a conversation; returns it unchanged. */
export function validateMessages(messages: readonly ChatMessage[]): readonly ChatMessage[] {
  if (!Array.isArray(messages)) throw new LeafError('chat messages must be an array of {role, content}');
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object') throw new LeafError(`chat message ${i} is not an object`);
    if (typeof m.role !== 'string') throw new LeafError(`chat message ${i}: role must be a string`);
    if (typeof m.content !== 'string') throw new LeafError(`chat message ${i} (${m.role}): content must be a string`);
  });
  return messages;
}

/** Renders conversations with one tokenizer's chat templates. */
export class ChatRenderer {
  private readonly compiled = new Map<string, Template>();

  /**
   * @param templates the tokenizer's chat templates
   * @param specialTokens template variables for the special tokens (`bos_token`: string, …)
   * @param source what to name in error messages (the tokenizer folder)
   */
  constructor(
    readonly templates: ChatTemplates,
    private readonly specialTokens: Readonly<Record<string, unknown>>,
    private readonly source: string,
  ) {}

  /** Whether any chat template is available. */
  get hasTemplate(): boolean {
    return this.templates.default !== null || Object.keys(this.templates.named).length > 0;
  }

  /**
   * The template transformers would pick (`get_chat_template`): the named one if asked for;
   * otherwise `tool_use` when tools are given and it exists; otherwise the default. Null when
   * the tokenizer has no template.
   */
  selectTemplate(templateName?: string, tools?: readonly unknown[] | null): { name: string; source: string } | null {
    const { named } = this.templates;
    const def = this.templates.default;
    if (templateName !== undefined) {
      if (Object.hasOwn(named, templateName)) return { name: templateName, source: named[templateName]! };
      if (templateName === 'default' && def !== null) return { name: 'default', source: def };
      const names = [...(def !== null ? ['default'] : []), ...Object.keys(named)];
      throw new LeafError(
        `${this.source}: no chat template named "${templateName}" (available: ${names.length ? names.join(', ') : 'none'})`,
      );
    }
    if (tools && tools.length > 0 && Object.hasOwn(named, 'tool_use')) return { name: 'tool_use', source: named.tool_use! };
    if (def !== null) return { name: 'default', source: def };
    if (Object.hasOwn(named, 'default')) return { name: 'default', source: named.default! };
    const names = Object.keys(named);
    if (names.length === 0) return null;
    throw new LeafError(
      `${this.source}: the tokenizer has several chat templates (${names.join(', ')}) and none named "default"; choose one by name`,
    );
  }

  private compile(name: string, source: string): Template {
    const key = `${name}\u0000${source}`;
    let t = this.compiled.get(key);
    if (!t) {
      try {
        t = new Template(source);
      } catch (e) {
        throw new LeafError(`${this.source}: chat template "${name}" does not parse: ${errorMessage(e)}`);
      }
      this.compiled.set(key, t);
    }
    return t;
  }

  private run(name: string, template: Template, messages: readonly ChatMessage[], o: ChatRenderOptions): string {
    const now = o.now ?? (() => new Date());
    const vars: Record<string, unknown> = {
      false: false, true: true, none: null, False: false, True: true, None: null,
      range: boundedRange(),
      raise_exception: (msg: unknown): never => {
        throw new LeafError(`${this.source}: chat template raised an exception: ${String(msg)}`);
      },
      strftime_now: (fmt: unknown): string => strftime(now(), String(fmt)),
      messages,
      tools: o.tools ?? null,
      documents: o.documents ?? null,
      add_generation_prompt: o.addGenerationPrompt === true,
      ...this.specialTokens,
      ...(o.templateKwargs ?? {}),
    };
    const env = new Environment();
    for (const [k, v] of Object.entries(vars)) env.set(k, v);
    try {
      const out = new BoundedInterpreter(env).run(template.parsed) as { value: unknown };
      return String(out.value);
    } catch (e) {
      if (e instanceof TemplateLimitError) throw new LeafError(`${this.source}: chat template "${name}" ${e.message}`);
      if (e instanceof LeafError) throw e;
      throw new LeafError(`${this.source}: chat template "${name}" failed: ${errorMessage(e)}`);
    }
  }

  /**
   * The rendered text only: what apply_chat_template(tokenize=False) returns. Unlike render(),
   * it does not need every message's content to appear in the text.
   */
  renderText(messages: readonly ChatMessage[], options: ChatRenderOptions = {}): string {
    return this.renderWith(messages, options, false).text;
  }

  /** Renders a conversation and locates each message's content in the text. */
  render(messages: readonly ChatMessage[], options: ChatRenderOptions = {}): RenderedChat {
    return this.renderWith(messages, options, true);
  }

  private renderWith(messages: readonly ChatMessage[], options: ChatRenderOptions, withSpans: boolean): RenderedChat {
    validateMessages(messages);
    if (options.continueFinalMessage && options.addGenerationPrompt) {
      throw new LeafError('continueFinalMessage and addGenerationPrompt cannot be used together');
    }
    const selected = options.plain ? null : this.selectTemplate(options.templateName, options.tools);
    let result: RenderedChat;
    if (!selected) {
      result = renderPlain(messages);
    } else {
      const template = this.compile(selected.name, selected.source);
      const render = (ms: readonly ChatMessage[]): string => this.run(selected.name, template, ms, options);
      const text = render(messages);
      result = { text, contentSpans: withSpans ? this.locateContents(messages, text, render) : [], templated: true };
    }
    if (options.continueFinalMessage && messages.length > 0) result = this.cutAfterFinalMessage(messages, result);
    return result;
  }

  /**
   * The prompt for an assistant answer that has already begun: render(messages,
   * addGenerationPrompt = true) followed by `assistantPrefix` (no end-of-turn after it). Used for
   * response-level counterfactuals, where the answer so far is a prefix of the full response.
   */
  renderPromptWithAssistantPrefix(
    messages: readonly ChatMessage[],
    assistantPrefix: string,
    options: ChatRenderOptions = {},
  ): RenderedPromptWithPrefix {
    if (typeof assistantPrefix !== 'string') throw new LeafError('the assistant prefix must be a string');
    const r = this.render(messages, { ...options, addGenerationPrompt: true, continueFinalMessage: false });
    const text = r.text + assistantPrefix;
    return { ...r, text, prefixSpan: [r.text.length, text.length] };
  }

  private cutAfterFinalMessage(messages: readonly ChatMessage[], r: RenderedChat): RenderedChat {
    // transformers' apply_chat_template(continue_final_message=True)
    const final = messages[messages.length - 1]!.content;
    const stripped = final.trim();
    const loc = r.text.lastIndexOf(stripped);
    if (loc < 0) {
      throw new LeafError(
        `${this.source}: continueFinalMessage is set but the final message does not appear in the rendered chat`,
      );
    }
    const lstripped = final.trimStart();
    const cut = r.text.slice(loc, loc + lstripped.length) === final ? loc + lstripped.length : loc + stripped.length;
    return {
      text: r.text.slice(0, cut),
      contentSpans: r.contentSpans.map(([a, b]): CharSpan => [Math.min(a, cut), Math.min(b, cut)]),
      templated: r.templated,
    };
  }

  /**
   * The span of each message's content in the rendered text `direct`: from one render with every
   * content replaced by a sentinel, else message by message (a sentinel in that message alone,
   * else the content itself searched after the previous one).
   */
  private locateContents(messages: readonly ChatMessage[], direct: string, render: RenderFn): CharSpan[] {
    if (messages.length === 0) return [];
    const mark = pickSentinelMarks(direct, messages.map((m) => m.content));
    const sentinel = (i: number): string => `${mark.open}${i}${mark.close}`;
    const all = locateAllAtOnce(messages, direct, render, sentinel);
    if (all) return all;
    const spans: CharSpan[] = [];
    let searchFrom = 0;
    for (let i = 0; i < messages.length; i++) {
      const span = locateBySentinel(messages, i, direct, render, sentinel(i)) ?? locateAsText(messages[i]!.content, direct, searchFrom);
      if (!span) {
        throw new LeafError(
          `${this.source}: cannot locate the content of chat message ${i} (${messages[i]!.role}) in the rendered chat template`,
        );
      }
      spans.push(span);
      searchFrom = Math.max(searchFrom, span[1]);
    }
    return spans;
  }
}

type RenderFn = (ms: readonly ChatMessage[]) => string;

/** `render`, or null when the template throws (it may inspect contents and reject sentinels). */
function tryRender(render: RenderFn, messages: readonly ChatMessage[]): string | null {
  try {
    return render(messages);
  } catch {
    return null;
  }
}

/**
 * Spans from one render with all contents replaced by sentinels at once, when each sentinel
 * occurs exactly once and putting the contents back gives `direct`; else null.
 */
function locateAllAtOnce(
  messages: readonly ChatMessage[],
  direct: string,
  render: RenderFn,
  sentinel: (i: number) => string,
): CharSpan[] | null {
  const all = tryRender(render, messages.map((m, i) => ({ ...m, content: sentinel(i) })));
  if (all === null) return null;
  const found: Array<{ i: number; pos: number }> = [];
  for (let i = 0; i < messages.length; i++) {
    const s = sentinel(i);
    const pos = all.indexOf(s);
    if (pos < 0 || all.indexOf(s, pos + 1) >= 0) return null;
    found.push({ i, pos });
  }
  found.sort((a, b) => a.pos - b.pos);
  const spans: CharSpan[] = new Array<CharSpan>(messages.length);
  let out = '';
  let last = 0;
  for (const { i, pos } of found) {
    const content = messages[i]!.content;
    out += all.slice(last, pos);
    spans[i] = [out.length, out.length + content.length];
    out += content;
    last = pos + sentinel(i).length;
  }
  out += all.slice(last);
  return out === direct ? spans : null;
}

/**
 * The span of message i's content from a render with that content alone replaced by sentinel
 * `s`: what comes before and after the sentinel must frame `direct`; else null.
 */
function locateBySentinel(messages: readonly ChatMessage[], i: number, direct: string, render: RenderFn, s: string): CharSpan | null {
  const one = tryRender(render, messages.map((m, j) => (j === i ? { ...m, content: s } : m)));
  if (one === null) return null;
  const pos = one.indexOf(s);
  if (pos < 0 || one.indexOf(s, pos + 1) >= 0) return null;
  const before = one.slice(0, pos);
  const after = one.slice(pos + s.length);
  if (before.length + after.length <= direct.length && direct.startsWith(before) && direct.endsWith(after)) {
    return [before.length, direct.length - after.length];
  }
  return null;
}

/** The content itself, then trimmed, searched in `direct` from `searchFrom` on; else null. */
function locateAsText(content: string, direct: string, searchFrom: number): CharSpan | null {
  for (const needle of [content, content.trim()]) {
    const p = direct.indexOf(needle, searchFrom);
    if (p >= 0) return [p, p + needle.length];
  }
  return null;
}

/** Sentinel delimiters (private-use characters) that occur nowhere in the render or the contents. */
function pickSentinelMarks(direct: string, contents: readonly string[]): { open: string; close: string } {
  for (let cp = 0xe000; cp < 0xf8fe; cp += 2) {
    const open = String.fromCharCode(cp);
    const close = String.fromCharCode(cp + 1);
    const clash = (s: string): boolean => s.includes(open) || s.includes(close);
    if (!clash(direct) && !contents.some(clash)) return { open, close };
  }
  throw new LeafError('cannot find a sentinel character absent from the chat contents');
}

/** The plain format (no template): contents joined by {@link PLAIN_SEPARATOR}. */
export function renderPlain(messages: readonly ChatMessage[]): RenderedChat {
  const spans: CharSpan[] = [];
  let text = '';
  messages.forEach((m, i) => {
    if (i > 0) text += PLAIN_SEPARATOR;
    spans.push([text.length, text.length + m.content.length]);
    text += m.content;
  });
  return { text, contentSpans: spans, templated: false };
}
