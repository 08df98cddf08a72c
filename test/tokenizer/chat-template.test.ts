import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LeafError } from '../../src/errors.js';
import { ChatRenderer, LeafTokenizer, strftime, type ChatMessage } from '../../src/tokenizer/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const QWEN = fixturePath('tokenizers', 'qwen2-bytelevel');
const LLAMA = fixturePath('tokenizers', 'llama3-bytelevel');
const qwen = LeafTokenizer.load(QWEN);
const llama = LeafTokenizer.load(LLAMA);
const MAR_7 = (): Date => new Date(2025, 2, 7, 12, 0, 0);

const tmp = mkdtempSync(join(tmpdir(), 'leaf-chat-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A copy of a fixture folder with extra / replaced files (config fields merged in). */
function variant(base: string, files: Record<string, string>, config?: Record<string, unknown>): string {
  const dir = join(tmp, `v${n++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(base, 'tokenizer.json')));
  const cfg = JSON.parse(readFileSync(join(base, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...cfg, ...config }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

function throwsLeaf(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LeafError, `expected a LeafError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

function checkSpans(messages: readonly ChatMessage[], r: { text: string; contentSpans: Array<[number, number]> }, transform = (s: string) => s): void {
  assert.equal(r.contentSpans.length, messages.length);
  messages.forEach((m, i) => assert.equal(r.text.slice(...r.contentSpans[i]!), transform(m.content), `message ${i}`));
}

// Expected strings: the templates' semantics applied by hand (and identical to Jinja2 with
// transformers' settings: trim_blocks, lstrip_blocks, keep_trailing_newline=False).
describe('Qwen2-style ChatML template', () => {
  const user: ChatMessage[] = [{ role: 'user', content: 'Hi there' }];
  const conv: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: '2+2?' },
    { role: 'assistant', content: '4' },
  ];

  test('default system message and generation prompt', () => {
    const r = qwen.renderChat(user, { addGenerationPrompt: true });
    assert.equal(
      r.text,
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
    );
    assert.equal(r.templated, true);
    checkSpans(user, r);
    assert.equal(qwen.renderChat(user).text, '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n');
  });

  test('own system message, no generation prompt', () => {
    const r = qwen.renderChat(conv);
    assert.equal(r.text, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n');
    checkSpans(conv, r);
  });

  test('contents with template-like text, sentinel-like and special tokens are located exactly', () => {
    const tricky: ChatMessage[] = [
      { role: 'user', content: '{{ x }} {% if %} 😀 \uE000 <|im_end|> Hi there' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'Hi there' },
    ];
    const r = qwen.renderChat(tricky, { addGenerationPrompt: true });
    checkSpans(tricky, r);
  });

  test('encodeChat: ids as the rendered text without added specials, content tokens decode to the contents', () => {
    const e = qwen.encodeChat(conv, { addGenerationPrompt: true });
    assert.deepEqual(e.ids, qwen.encode(e.text, { addSpecialTokens: false }).ids);
    conv.forEach((m, i) => {
      const { inside, overlapping } = e.contentTokens[i]!;
      assert.deepEqual(inside, overlapping);
      assert.equal(qwen.decode(e.ids.slice(inside.start, inside.end)), m.content);
    });
    // The token before each content is the "\n" after the role; the token after it is <|im_end|>.
    const imEnd = qwen.tokenToId('<|im_end|>');
    for (const r of e.contentTokens) assert.equal(e.ids[r.inside.end], imEnd);
  });

  test('assistant prefix: the prompt with generation prompt, then the partial answer', () => {
    const r = qwen.renderPromptWithAssistantPrefix(user, 'The answer is');
    const prompt = qwen.renderChat(user, { addGenerationPrompt: true }).text;
    assert.equal(r.text, prompt + 'The answer is');
    assert.deepEqual(r.prefixSpan, [prompt.length, r.text.length]);
    checkSpans(user, r);
    const e = qwen.encodePromptWithAssistantPrefix(user, 'The answer is');
    assert.equal(qwen.decode(e.ids.slice(e.prefixTokens.inside.start, e.prefixTokens.inside.end)), 'The answer is');
    assert.equal(e.prefixTokens.inside.end, e.ids.length);
    // The same text as transformers' continue_final_message on a partial assistant message.
    const c = qwen.renderChat([...user, { role: 'assistant', content: 'The answer is' }], { continueFinalMessage: true });
    assert.equal(c.text, r.text);
    assert.deepEqual(c.contentSpans[1], r.prefixSpan);
  });

  test('continueFinalMessage keeps trailing spaces the template keeps, and rejects addGenerationPrompt', () => {
    const c = qwen.renderChat([...user, { role: 'assistant', content: 'So  ' }], { continueFinalMessage: true });
    assert.ok(c.text.endsWith('<|im_start|>assistant\nSo  '));
    throwsLeaf(() => qwen.renderChat(user, { continueFinalMessage: true, addGenerationPrompt: true }), /cannot be used together/);
  });

  test('plain format on request', () => {
    const r = qwen.renderChat(conv, { plain: true, addGenerationPrompt: true });
    assert.equal(r.text, 'Be brief.\n\n2+2?\n\n4');
    assert.equal(r.templated, false);
    checkSpans(conv, r);
  });
});

describe('Llama 3.2-style template', () => {
  test('bos_token, strftime_now and the system block', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }];
    const r = llama.renderChat(messages, { now: MAR_7 });
    assert.equal(
      r.text,
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 07 Mar 2025\n\n' +
        '<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>',
    );
    checkSpans(messages, r);
  });

  test('contents trimmed by the template: spans cover what is rendered', () => {
    const messages: ChatMessage[] = [{ role: 'system', content: '  Be brief. ' }, { role: 'user', content: ' 2+2? ' }];
    const r = llama.renderChat(messages, { addGenerationPrompt: true, now: MAR_7 });
    assert.equal(
      r.text,
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 07 Mar 2025\n\n' +
        'Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    checkSpans(messages, r, (s) => s.trim());
  });

  test('strftime_now uses the current local time by default', () => {
    const before = strftime(new Date(), '%d %b %Y');
    const text = llama.renderChat([{ role: 'user', content: 'x' }]).text;
    const after = strftime(new Date(), '%d %b %Y');
    assert.ok(text.includes(`Today Date: ${before}\n`) || text.includes(`Today Date: ${after}\n`));
  });

  test('raise_exception throws a LeafError with the template message', () => {
    throwsLeaf(
      () => llama.renderChat([{ role: 'system', content: 's' }, { role: 'tool', content: '{}' }]),
      /chat template raised an exception: Only user and assistant roles are supported after the system message\./,
    );
    throwsLeaf(
      () => llama.renderChat([{ role: 'user', content: 'x' }], { tools: [{ type: 'function' }] }),
      /This template does not support tools\./,
    );
  });

  test('encodeChat: BOS comes from the template text only (add_special_tokens=False)', () => {
    const e = llama.encodeChat([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true, now: MAR_7 });
    const bos = llama.bosToken!.id;
    assert.equal(e.ids[0], bos);
    assert.equal(e.ids.filter((id) => id === bos).length, 1);
    assert.deepEqual(e.offsets[0], [0, 17]);
    assert.equal(llama.decode(e.ids.slice(e.contentTokens[0]!.inside.start, e.contentTokens[0]!.inside.end)), 'Hi');
    // Forcing addSpecialTokens reproduces the double BOS of tokenizing the rendered text with specials.
    const twice = llama.encodeChat([{ role: 'user', content: 'Hi' }], { now: MAR_7, addSpecialTokens: true });
    assert.deepEqual(twice.ids.slice(0, 2), [bos, bos]);
    assert.deepEqual(twice.offsets.slice(0, 2), [[0, 0], [0, 17]]);
  });
});

describe('template sources and options', () => {
  // (Booleans are tested with `if`: @huggingface/jinja prints them as true/false, Python as True/False.)
  const ctxTemplate =
    "{{ bos_token }}|{{ eos_token }}|{{ 'P' if pad_token is defined else 'p' }}|{{ 'U' if unk_token is defined else 'u' }}|" +
    "{{ 'G' if add_generation_prompt else 'g' }}|{{ 'N' if tools is none else 'n' }}|{{ extra }}";

  test('chat_template.jinja replaces the config template; special tokens are strings in the context', () => {
    const dir = variant(LLAMA, { 'chat_template.jinja': ctxTemplate + '\n' });
    const t = LeafTokenizer.load(dir);
    assert.equal(
      t.renderChat([], { addGenerationPrompt: true, templateKwargs: { extra: 'E' } }).text,
      '<|begin_of_text|>|<|eot_id|>|p|u|G|N|E',
    );
  });

  test('a list of named templates: default, tool_use with tools, by name, unknown name', () => {
    const dir = variant(QWEN, {}, {
      chat_template: [
        { name: 'default', template: 'D{% for m in messages %}[{{ m.content }}]{% endfor %}' },
        { name: 'tool_use', template: 'T{{ tools | length }}{% for m in messages %}[{{ m.content }}]{% endfor %}' },
      ],
    });
    const t = LeafTokenizer.load(dir);
    const ms: ChatMessage[] = [{ role: 'user', content: 'a' }];
    assert.equal(t.renderChat(ms).text, 'D[a]');
    assert.equal(t.renderChat(ms, { tools: [{}, {}] }).text, 'T2[a]');
    assert.equal(t.renderChat(ms, { templateName: 'tool_use', tools: [] }).text, 'T0[a]');
    throwsLeaf(() => t.renderChat(ms, { templateName: 'rag' }), /no chat template named "rag" \(available: default, tool_use\)/);
    const noDefault = LeafTokenizer.load(variant(QWEN, {}, {
      chat_template: [{ name: 'a', template: 'A{{ messages[0].content }}' }, { name: 'b', template: 'B{{ messages[0].content }}' }],
    }));
    throwsLeaf(() => noDefault.renderChat(ms), /several chat templates \(a, b\) and none named "default"/);
    assert.equal(noDefault.renderChat(ms, { templateName: 'b' }).text, 'Ba');
  });

  test('additional_chat_templates/<name>.jinja', () => {
    const t = LeafTokenizer.load(variant(QWEN, { 'additional_chat_templates/short.jinja': 'S{{ messages[0].content }}' }));
    assert.equal(t.renderChat([{ role: 'user', content: 'q' }], { templateName: 'short' }).text, 'Sq');
    assert.ok(t.renderChat([{ role: 'user', content: 'q' }]).text.startsWith('<|im_start|>system'));
  });

  test('trim_blocks and lstrip_blocks are applied as transformers compiles templates', () => {
    const template = '{% for m in messages %}\n  <{{ m.role }}>\n    {% if m.content %}\n  {{ m.content }}\n    {% endif %}\n{% endfor %}\n{# c #}\nend\n';
    const r = new ChatRenderer({ default: template, named: {} }, {}, 'inline');
    const ms: ChatMessage[] = [{ role: 'user', content: 'a' }, { role: 'assistant', content: '' }];
    const out = r.render(ms);
    assert.equal(out.text, '  <user>\n  a\n  <assistant>\nend');
    checkSpans(ms, out);
  });

  test('a content transformed by the template: the span of what is rendered in its place', () => {
    const r = new ChatRenderer({ default: '{% for m in messages %}<{{ m.content | upper }}>{% endfor %}', named: {} }, {}, 'inline');
    assert.deepEqual(r.render([{ role: 'user', content: 'ABC' }]).contentSpans, [[1, 4]]);
    assert.deepEqual(r.render([{ role: 'user', content: 'ABC' }, { role: 'assistant', content: 'def' }]).contentSpans, [[1, 4], [6, 9]]);
  });

  test('a content that cannot be located is a LeafError naming the message', () => {
    const template = '{% for m in messages %}{{ m.content | length }}:{{ m.content | upper }};{% endfor %}';
    const r = new ChatRenderer({ default: template, named: {} }, {}, 'inline');
    throwsLeaf(
      () => r.render([{ role: 'user', content: 'ABC' }, { role: 'assistant', content: 'defg' }]),
      /inline: cannot locate the content of chat message 1 \(assistant\)/,
    );
  });

  test('a content rendered twice: the first occurrence', () => {
    const r = new ChatRenderer({ default: '{{ messages[0].content }}|{{ messages[0].content }}', named: {} }, {}, 'inline');
    assert.deepEqual(r.render([{ role: 'user', content: 'xy' }]).contentSpans, [[0, 2]]);
  });

  test('a template that inspects contents still gets spans (one message at a time)', () => {
    const template =
      "{% for m in messages %}{% if m.content.startswith('#') %}H:{% endif %}<{{ m.content }}>\n{% endfor %}";
    const r = new ChatRenderer({ default: template, named: {} }, {}, 'inline');
    const ms: ChatMessage[] = [{ role: 'user', content: 'plain' }, { role: 'user', content: '#title' }, { role: 'user', content: 'end' }];
    const out = r.render(ms);
    assert.equal(out.text, '<plain>\nH:<#title>\n<end>\n');
    assert.deepEqual(out.contentSpans, [[1, 6], [11, 17], [20, 23]]);
  });

  test('errors: bad messages, template syntax and runtime errors', () => {
    throwsLeaf(() => qwen.renderChat([{ role: 'user', content: 3 as unknown as string }]), /chat message 0 \(user\): content must be a string/);
    throwsLeaf(() => qwen.renderChat([{ content: 'x' } as unknown as ChatMessage]), /chat message 0: role must be a string/);
    const bad = new ChatRenderer({ default: '{% for m in messages %}', named: {} }, {}, 'inline');
    throwsLeaf(() => bad.render([]), /inline: chat template "default" does not parse/);
    const failing = new ChatRenderer({ default: '{{ messages[0].content.nope() }}', named: {} }, {}, 'inline');
    throwsLeaf(() => failing.render([{ role: 'user', content: 'x' }]), /inline: chat template "default" failed/);
  });
});

describe('without a chat template: the plain format', () => {
  const dir = variant(QWEN, {}, { chat_template: null });
  const t = LeafTokenizer.load(dir);

  test('contents joined by a blank line, no roles; a single message is its content', () => {
    assert.equal(t.hasChatTemplate, false);
    const ms: ChatMessage[] = [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q?' }];
    const r = t.renderChat(ms, { addGenerationPrompt: true });
    assert.deepEqual(r, { text: 'S\n\nQ?', contentSpans: [[0, 1], [3, 5]], templated: false });
    assert.equal(t.renderChat([{ role: 'user', content: ' as is ' }]).text, ' as is ');
    const p = t.renderPromptWithAssistantPrefix([{ role: 'user', content: 'Q: 1+1? A:' }], ' 2');
    assert.deepEqual([p.text, p.prefixSpan], ['Q: 1+1? A: 2', [10, 12]]);
  });

  test('encodeChat adds the tokenizer\'s special tokens by default in the plain format', () => {
    const l = LeafTokenizer.load(variant(LLAMA, {}, { chat_template: null }));
    const e = l.encodeChat([{ role: 'user', content: 'Hi' }]);
    assert.equal(e.ids[0], l.bosToken!.id);
    assert.deepEqual(e.contentTokens[0]!.inside, { start: 1, end: e.ids.length });
    assert.equal(l.encodeChat([{ role: 'user', content: 'Hi' }], { addSpecialTokens: false }).ids[0] === l.bosToken!.id, false);
  });
});

test('renderText does not need the contents to be locatable; namespace, loop controls, macros work', () => {
  const template =
    "{%- set ns = namespace(n=0) -%}{%- for m in messages -%}{%- set ns.n = ns.n + 1 -%}{%- if loop.index > 1 %}{% break %}{% endif -%}{%- endfor -%}" +
    "{%- macro wrap(x) %}<{{ x }}>{% endmacro %}{{ ns.n }}{{ wrap(messages[0].content) }}{{ messages | selectattr('role', 'equalto', 'user') | list | length }}";
  const r = new ChatRenderer({ default: template, named: {} }, {}, 'inline');
  const ms: ChatMessage[] = [{ role: 'system', content: 'S' }, { role: 'user', content: 'dropped' }, { role: 'user', content: 'x' }];
  assert.equal(r.renderText(ms), '2<S>2');
  throwsLeaf(() => r.render(ms), /cannot locate the content of chat message 1 \(user\)/);
});
