// Config text -> plain data, by format. Syntax errors become `FILE:LINE:COL: message` problems.

import { LineCounter, parseDocument } from 'yaml';
import { parse as parseToml, TomlError } from 'smol-toml';

export const CONFIG_FORMATS = ['yaml', 'json', 'toml'] as const;
export type ConfigFormat = (typeof CONFIG_FORMATS)[number];

/** SPEC §2: YAML (.yaml/.yml), JSON or TOML by extension. */
export function formatFromPath(path: string): ConfigFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  if (ext === 'json') return 'json';
  if (ext === 'toml') return 'toml';
  return undefined;
}

export type ParsedText = { ok: true; value: unknown } | { ok: false; problems: string[] };

/** `source` names the text in problems (normally the file path). */
export function parseText(text: string, format: ConfigFormat, source: string): ParsedText {
  const body = text.replace(/^\uFEFF/, '');
  switch (format) {
    case 'yaml':
      return parseYaml(body, source);
    case 'json':
      try {
        return { ok: true, value: JSON.parse(body) as unknown };
      } catch (err) {
        return { ok: false, problems: [`${source}: ${(err as Error).message}`] };
      }
    case 'toml':
      try {
        return { ok: true, value: parseToml(body) };
      } catch (err) {
        if (!(err instanceof TomlError)) throw err;
        const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
        return { ok: false, problems: [`${source}:${err.line}:${err.column}: ${reason}`] };
      }
  }
}

function parseYaml(text: string, source: string): ParsedText {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: `on` and `no` are strings, 0x58 is an integer.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err) => {
      const { line, col } = lineCounter.linePos(err.pos[0]);
      return `${source}:${line}:${col}: ${err.message}`;
    });
    return { ok: false, problems };
  }
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
}
