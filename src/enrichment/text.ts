/**
 * Text as the enrichment engine reads it: ATT&CK markup removed, lower-cased, split into terms
 * that survive the ways security text writes things (`rundll32.exe`, `-EncodedCommand`,
 * `HKLM\Software\...\Run`), lightly stemmed, with adjacent-term bigrams.
 */

const STOPWORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does for from had has have having he ' +
    'her his how i if in into is it its itself may might more most no not of on once only or other ' +
    'our out over own same she should so some such than that the their them then there these they ' +
    'this those through to too under until up very was we were what when where which while who whom ' +
    'why will with would you your also via using use used uses able capable ability abilities ' +
    'adversary adversaries attacker attackers threat actor actors malware group groups include ' +
    'includes including e g eg i e ie etc'
  ).split(' '),
);

/** ATT&CK's markup: `[Name](https://attack.mitre.org/...)` links, citations, code tags. */
export function stripMarkup(text: string): string {
  return text
    .replace(/\[([^\]]{1,200})\]\([^)]{1,500}\)/g, '$1')
    .replace(/\(Citation:[^)]{0,300}\)/g, ' ')
    .replace(/<\/?code>/g, ' ');
}

/**
 * Paths as written once more when they arrive escaped: rules exported as JSON or YAML double every
 * backslash (`C:\\Windows\\System32`, a UNC `\\\\host\\C$`). The text counts as escaped when every
 * run of backslashes is even and one pair stands between two word characters; a path written
 * plainly (`\\host\C$` has a single one) is left as it is.
 */
export function unescapedPaths(text: string): string {
  if (!text.includes('\\\\')) return text;
  const runs = text.match(/\\+/g) ?? [];
  if (runs.some((r) => r.length % 2 === 1) || !/\w\\\\\w/.test(text)) return text;
  return text.replace(/\\+/g, (r) => r.slice(r.length / 2));
}

/**
 * Template placeholders as the words they name: emulation plans and runbooks write command lines
 * with `#{remote_host}` or `#{lsass_pid}` where a value goes, and `\\#{remote_host}\C$` or
 * `-ma #{lsass_pid}` should read as the artefacts they stand for (`\\remote-host\C$`,
 * `-ma lsass-pid`: hyphens keep a host name whole and let `lsass` stand as a word).
 */
export function untemplated(text: string): string {
  return text.includes('#{')
    ? text.replace(/#\{([A-Za-z0-9_.-]{1,64})\}/g, (_m, name: string) =>
        name.replace(/[_.]+/g, '-'),
      )
    : text;
}

/** A light suffix stemmer: enough to meet `tasks`/`task`, `executed`/`execute`, `dumping`/`dump`. */
export function stem(word: string): string {
  if (word.length <= 4 || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith('ies') && w.length > 5) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ing') && w.length > 6) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 5) w = w.slice(0, -2);
  else if (/(ches|shes|xes|zes)$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  // `execute`, `executed` and `executes` meet at `execut`.
  if (w.endsWith('e') && w.length > 5) w = w.slice(0, -1);
  return w;
}

const RAW = /[a-z0-9_$%]+(?:[.\-:][a-z0-9_$%]+)*/g;

/**
 * Marks in a sequence read for names: where words were left out (stop words; one mark for a run)
 * and where a clause ends. A name matches only where the text leaves words out as the name does:
 * "runs as SYSTEM when the service restarts" does not name System Services, "data from the local
 * system" still names Data from Local System. No term is ever written with these characters.
 */
export const SKIPPED = '~';
export const CLAUSE = '|';
const CLAUSE_END = /[,;:!?()\n]|\.(\s|$)/;

/** A term, not a mark. */
export const isTerm = (t: string): boolean => t !== SKIPPED && t !== CLAUSE;

/**
 * The terms of a text, in order: each word stemmed; a dotted or hyphenated word (`rundll32.exe`,
 * `win32_process`) also as a whole, and its parts. `written` (when given) receives each new term
 * with the word it was made from, to show terms as written. With `marks`, the sequence also holds
 * SKIPPED and CLAUSE marks (for names).
 */
export function terms(text: string, written?: Map<string, string>, marks = false): string[] {
  const out: string[] = [];
  const lower = stripMarkup(text).toLowerCase();
  let end = 0;
  for (const m of lower.matchAll(RAW)) {
    const raw = m[0];
    if (marks && CLAUSE_END.test(lower.slice(end, m.index))) mark(out, CLAUSE);
    end = (m.index ?? 0) + raw.length;
    if (/[.\-:]/.test(raw)) {
      if (raw.length <= 60) push(out, raw, raw, written);
      for (const part of raw.split(/[.\-:]+/)) pushWord(out, part, written, marks);
    } else pushWord(out, raw, written, marks);
  }
  return out;
}

/** A mark after the last term; a run of skipped words is one mark, and a clause end wins. */
function mark(out: string[], m: string): void {
  const last = out[out.length - 1];
  if (last === undefined || last === CLAUSE) return;
  if (last === SKIPPED) out[out.length - 1] = m === CLAUSE ? CLAUSE : SKIPPED;
  else out.push(m);
}

/** A model feature (a term, or two joined by `_`) as the words of the text it came from. */
export function asWritten(feature: string, words: Map<string, string>): string {
  return (
    words.get(feature) ??
    feature
      .split('_')
      .map((t) => words.get(t) ?? t)
      .join(' ')
  );
}

function pushWord(out: string[], w: string, written?: Map<string, string>, marks = false): void {
  if (w.length < 2 || w.length > 40 || STOPWORDS.has(w)) {
    if (marks) mark(out, SKIPPED);
    return;
  }
  push(out, stem(w), w, written);
}

function push(out: string[], term: string, word: string, written?: Map<string, string>): void {
  out.push(term);
  if (written && !written.has(term)) written.set(term, word);
}

/** Terms and the bigrams of adjacent terms (`scheduled task` → `schedul_task`): the model's features. */
export function features(text: string): string[] {
  return featuresOf(terms(text));
}

/** The features of terms already split (one field's, in order). */
export function featuresOf(t: string[]): string[] {
  const out = [...t];
  for (let i = 1; i < t.length; i++) out.push(`${t[i - 1]}_${t[i]}`);
  return out;
}

/** Term frequencies, sublinear (1 + ln tf): one long document does not outweigh many short ones. */
export function bagOf(feats: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of feats) counts.set(f, (counts.get(f) ?? 0) + 1);
  for (const [f, n] of counts) counts.set(f, 1 + Math.log(n));
  return counts;
}
