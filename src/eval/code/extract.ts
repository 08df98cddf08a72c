/**
 * extractCode: the Python program inside a model response. Takes the last ```python (also py,
 * python3, py3) fenced block; failing that, the last fenced block of any language; failing that,
 * the raw text. Fences are ``` (or longer) at the start of a line, optionally indented (the
 * block is dedented by the fence's indentation); a block left open at the end of the text (a
 * truncated generation) runs to the end.
 */

interface Block {
  lang: string;
  body: string;
}

const PY_LANGS = new Set(['python', 'py', 'python3', 'py3']);

function fencedBlocks(text: string): Block[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: Block[] = [];
  let open: { lang: string; indent: number; fence: number; body: string[] } | null = null;
  for (const line of lines) {
    if (open === null) {
      const m = /^([ \t]*)(`{3,})[ \t]*([^`\s]*)[^`]*$/.exec(line);
      if (m) open = { lang: m[3]!.toLowerCase(), indent: m[1]!.length, fence: m[2]!.length, body: [] };
      continue;
    }
    const close = /^[ \t]*(`{3,})[ \t]*$/.exec(line);
    if (close && close[1]!.length >= open.fence) {
      blocks.push({ lang: open.lang, body: open.body.join('\n') });
      open = null;
      continue;
    }
    const lead = /^[ \t]*/.exec(line)![0].length;
    open.body.push(line.slice(Math.min(lead, open.indent)));
  }
  if (open !== null) blocks.push({ lang: open.lang, body: open.body.join('\n') });
  return blocks;
}

/** The code to run from a model response (see the module comment for the rules). */
export function extractCode(response: string): string {
  const blocks = fencedBlocks(response);
  const py = blocks.filter((b) => PY_LANGS.has(b.lang));
  const chosen = py.length > 0 ? py[py.length - 1] : blocks[blocks.length - 1];
  const code = chosen !== undefined ? chosen.body : response;
  return code.endsWith('\n') || code === '' ? code : `${code}\n`;
}
