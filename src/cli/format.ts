// A Go text/template subset for `--format`, shared by all commands: the
// lexer, parser and evaluator follow Go's semantics (and error messages) for
// what docker users write: fields, variables, pipelines, if/else/range/with,
// break/continue, comments, trim markers, and docker's functions.

// ---------------------------------------------------------------- values

/** Marks an object as a Go struct: unknown fields are errors, not "<no value>". */
export const STRUCT_TYPE: unique symbol = Symbol('goStructType');
/** An object's own JSON encoding, as a Go MarshalJSON method gives it. */
export const MARSHAL_JSON: unique symbol = Symbol('goMarshalJSON');

export interface GoStruct {
  [STRUCT_TYPE]: string;
  [MARSHAL_JSON]?: () => string;
}

/** A struct-like object: fields are checked, `{{json .}}` uses `marshal`. */
export function goStruct<T extends object>(typeName: string, fields: T, marshal?: () => string): T & GoStruct {
  const o = fields as T & GoStruct;
  Object.defineProperty(o, STRUCT_TYPE, { value: typeName, enumerable: false });
  if (marshal) Object.defineProperty(o, MARSHAL_JSON, { value: marshal, enumerable: false });
  return o;
}

/** A method of a Go struct that takes arguments (docker's `.Label "name"`):
 * called with the template's arguments, checked against `params`. */
export class GoMethod {
  constructor(
    readonly params: Array<'any' | 'string' | 'int' | 'strings' | 'bool'>,
    readonly fn: (...args: any[]) => unknown,
  ) {}
}

/** A Go nil slice or map: prints as "[]" / "map[]", encodes as null. */
export class TypedNil {
  constructor(readonly kind: 'slice' | 'map') {}
}

type Value = unknown; // undefined is Go's "no value" (an invalid reflect.Value)

function isStruct(v: Value): v is GoStruct & Record<string, unknown> {
  return typeof v === 'object' && v !== null && STRUCT_TYPE in v;
}

function isMap(v: Value): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TypedNil) && !isStruct(v);
}

/** Data decoded from the API: an object whose keys are all exported Go names
 * is a struct (printed "{a b}", encoded in order); others are maps. */
function looksLikeStruct(o: Record<string, unknown>): boolean {
  const keys = Object.keys(o);
  return keys.length > 0 && keys.every((k) => /^[A-Z][A-Za-z0-9]*$/.test(k));
}

function goTypeName(v: Value): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (v instanceof TypedNil) return v.kind === 'map' ? 'map[string]string' : '[]string';
  if (isStruct(v)) return v[STRUCT_TYPE];
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') && v.length > 0 ? '[]string' : '[]interface {}';
  if (typeof v === 'function') return 'func';
  return 'map[string]interface {}';
}

/** Go's %v of a number: integers as int64 would print, other values as a
 * float64 (shortest digits, exponent form outside Go's range). */
function formatFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const [m, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= (Number.isInteger(n) ? 21 : 6)) {
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

/** Go's fmt %v. */
export function goSprint(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatFloat(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof TypedNil) return v.kind === 'map' ? 'map[]' : '[]';
  if (Array.isArray(v)) return '[' + v.map(inner).join(' ') + ']';
  if (isStruct(v)) return '{' + Object.keys(v).map((k) => inner(v[k])).join(' ') + '}';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (looksLikeStruct(o)) return '{' + Object.keys(o).map((k) => inner(o[k])).join(' ') + '}';
    return 'map[' + Object.keys(o).sort().map((k) => `${k}:${inner(o[k])}`).join(' ') + ']';
  }
  return String(v);
}

// nested nil inside a container prints as Go prints a nil interface
function inner(v: Value): string {
  return v === undefined ? '<nil>' : goSprint(v);
}

function escapeJsonString(s: string, html: boolean): string {
  let out = JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
  if (html) out = out.replace(/[<>&]/g, (c) => '\\u00' + c.charCodeAt(0).toString(16));
  return out;
}

/** Go's encoding/json (SetEscapeHTML(false)): maps sorted, structs in order. */
export function goJson(v: Value, html = false): string {
  if (v === undefined || v === null || v instanceof TypedNil) return 'null';
  if (typeof v === 'string') return escapeJsonString(v, html);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return '[' + v.map((x) => goJson(x, html)).join(',') + ']';
  if (isStruct(v)) {
    const m = v[MARSHAL_JSON];
    if (m) return m();
    return '{' + Object.keys(v).map((k) => `${escapeJsonString(k, html)}:${goJson(v[k], html)}`).join(',') + '}';
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = looksLikeStruct(o) ? Object.keys(o) : Object.keys(o).sort();
    return '{' + keys.map((k) => `${escapeJsonString(k, html)}:${goJson(o[k], html)}`).join(',') + '}';
  }
  return 'null';
}

/** Go template truth: false, 0, nil, and empty strings/slices/maps are false. */
export function isTrue(v: Value): boolean {
  if (v === undefined || v === null) return false;
  if (v instanceof TypedNil) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isStruct(v)) return true;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

// ---------------------------------------------------------------- errors

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

// ---------------------------------------------------------------- lexer

type ItemType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'dot'
  | 'string'
  | 'rawString'
  | 'number'
  | 'char'
  | 'charConstant'
  | 'bool'
  | 'nil'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'declare'
  | 'assign'
  | 'eof'
  | 'error';

interface Item {
  type: ItemType;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

function itemString(i: Item): string {
  if (i.type === 'eof') return 'EOF';
  if (i.type === 'error') return i.val;
  if (i.type === 'keyword' || i.type === 'dot' || i.type === 'nil') return `<${i.val}>`;
  if (i.val.length > 10) return `${JSON.stringify(i.val.slice(0, 10))}...`;
  return JSON.stringify(i.val);
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  const emit = (type: ItemType, start: number, end: number, val = input.slice(start, end)) => {
    items.push({ type, val, pos: start, line: 1 + countNewlines(input.slice(0, start)) });
  };
  const fail = (msg: string, at: number) => {
    items.push({ type: 'error', val: msg, pos: at, line: 1 + countNewlines(input.slice(0, at)) });
  };

  const badChar = (at: number): Item[] => {
    const c = String.fromCodePoint(input.codePointAt(at)!);
    fail(`bad character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`, at);
    return items;
  };

  let trimNextText = false;
  while (pos <= input.length) {
    // text up to the next action
    const next = input.indexOf('{{', pos);
    let text = input.slice(pos, next < 0 ? input.length : next);
    let trimLeft = false;
    if (next >= 0 && input[next + 2] === '-' && isSpace(input[next + 3])) trimLeft = true;
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text.length > 0) items.push({ type: 'text', val: text, pos, line: 1 + countNewlines(input.slice(0, pos)) });
    trimNextText = false;
    if (next < 0) break;
    pos = next;
    emit('leftDelim', pos, pos + 2);
    pos += 2;
    if (trimLeft) pos += 2;
    // comment
    if (input.startsWith('/*', pos)) {
      let p = pos;
      const close = input.indexOf('*/', p + 2);
      if (close < 0) {
        fail('unclosed comment', p);
        return items;
      }
      p = close + 2;
      const trimR = input.startsWith(' -}}', p) || input.startsWith('\t-}}', p) || input.startsWith('\n-}}', p);
      if (!trimR && !input.startsWith('}}', p)) {
        fail('comment ends before closing delimiter', p);
        return items;
      }
      items.pop(); // the comment and its delimiters produce nothing
      pos = p + (trimR ? 4 : 2);
      trimNextText = trimR;
      continue;
    }
    // inside an action
    let parenDepth = 0;
    for (;;) {
      if (pos >= input.length) {
        fail('unclosed action', pos);
        return items;
      }
      // right delimiter, possibly with a trim marker
      if (isSpace(input[pos]) && input.startsWith('-}}', pos + 1)) {
        if (parenDepth > 0) {
          fail('unclosed left paren', pos);
          return items;
        }
        emit('rightDelim', pos + 2, pos + 4, '}}');
        pos += 4;
        trimNextText = true;
        break;
      }
      if (input.startsWith('}}', pos)) {
        if (parenDepth > 0) {
          fail('unclosed left paren', pos);
          return items;
        }
        emit('rightDelim', pos, pos + 2);
        pos += 2;
        break;
      }
      const c = input[pos]!;
      const start = pos;
      if (isSpace(c)) {
        // a run of spaces; one followed by "-}}" belongs to the delimiter
        while (pos < input.length && isSpace(input[pos]) && !input.startsWith('-}}', pos + 1)) pos++;
        emit('space', start, pos);
      } else if (c === '=') {
        pos++;
        emit('assign', start, pos);
      } else if (c === ':') {
        if (input[pos + 1] !== '=') {
          fail('expected :=', pos);
          return items;
        }
        pos += 2;
        emit('declare', start, pos);
      } else if (c === '|') {
        pos++;
        emit('pipe', start, pos);
      } else if (c === '"') {
        const end = quotedEnd(input, pos, '"');
        if (end < 0) {
          fail('unterminated quoted string', start);
          return items;
        }
        pos = end;
        emit('string', start, pos);
      } else if (c === '`') {
        const close = input.indexOf('`', pos + 1);
        if (close < 0) {
          fail('unterminated raw quoted string', start);
          return items;
        }
        pos = close + 1;
        emit('rawString', start, pos);
      } else if (c === "'") {
        const end = quotedEnd(input, pos, "'");
        if (end < 0) {
          fail('unterminated character constant', start);
          return items;
        }
        pos = end;
        emit('charConstant', start, pos);
      } else if (c === '$') {
        pos++;
        while (isAlnum(input[pos])) pos++;
        if (!atTerminator(input, pos)) return badChar(pos);
        emit('variable', start, pos);
      } else if (c === '.') {
        // a number like .5, else a field or the dot
        if (/[0-9]/.test(input[pos + 1] ?? '')) {
          pos = scanNumber(input, pos);
          emit('number', start, pos);
        } else if (isAlnum(input[pos + 1])) {
          pos++;
          while (isAlnum(input[pos])) pos++;
          if (!atTerminator(input, pos)) return badChar(pos);
          emit('field', start, pos);
        } else {
          pos++;
          emit('dot', start, pos);
        }
      } else if (c === '+' || c === '-' || /[0-9]/.test(c)) {
        const end = scanNumber(input, pos);
        if (end === pos || isAlnum(input[end])) {
          fail(`bad number syntax: ${JSON.stringify(input.slice(pos, Math.max(end, pos + 1)))}`, pos);
          return items;
        }
        pos = end;
        emit('number', start, pos);
      } else if (isAlnum(c)) {
        while (isAlnum(input[pos])) pos++;
        if (!atTerminator(input, pos)) return badChar(pos);
        const word = input.slice(start, pos);
        if (KEYWORDS.has(word)) emit('keyword', start, pos);
        else if (word === 'true' || word === 'false') emit('bool', start, pos);
        else if (word === 'nil') emit('nil', start, pos);
        else emit('identifier', start, pos);
      } else if (c === '(') {
        parenDepth++;
        pos++;
        emit('leftParen', start, pos);
      } else if (c === ')') {
        parenDepth--;
        if (parenDepth < 0) {
          fail('unexpected right paren', pos);
          return items;
        }
        pos++;
        emit('rightParen', start, pos);
      } else if (c === ',' ) {
        pos++;
        emit('char', start, pos);
      } else {
        const cp = c.codePointAt(0)!;
        fail(`unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`, pos);
        return items;
      }
    }
  }
  items.push({ type: 'eof', val: '', pos: input.length, line: 1 + countNewlines(input) });
  return items;
}

/** Go's lexer: what may follow a word without a space. */
function atTerminator(s: string, pos: number): boolean {
  const c = s[pos];
  if (c === undefined || isSpace(c) || '.,|:()'.includes(c)) return true;
  return s.startsWith('}}', pos);
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

function scanNumber(s: string, pos: number): number {
  let p = pos;
  if (s[p] === '+' || s[p] === '-') p++;
  let digits = '0123456789_';
  if (s[p] === '0' && /[xX]/.test(s[p + 1] ?? '')) {
    p += 2;
    digits = '0123456789abcdefABCDEF_';
  } else if (s[p] === '0' && /[oO]/.test(s[p + 1] ?? '')) {
    p += 2;
    digits = '01234567_';
  } else if (s[p] === '0' && /[bB]/.test(s[p + 1] ?? '')) {
    p += 2;
    digits = '01_';
  }
  while (p < s.length && digits.includes(s[p]!)) p++;
  if (s[p] === '.') {
    p++;
    while (p < s.length && digits.includes(s[p]!)) p++;
  }
  if (digits.length === 11 && /[eE]/.test(s[p] ?? '')) {
    p++;
    if (s[p] === '+' || s[p] === '-') p++;
    while (p < s.length && /[0-9_]/.test(s[p]!)) p++;
  }
  return p;
}

// ---------------------------------------------------------------- nodes

type Node =
  | { type: 'text'; pos: number; text: string }
  | { type: 'action'; pos: number; pipe: PipeNode }
  | ControlNode
  | { type: 'break' | 'continue'; pos: number }
  | ListNode;

interface ControlNode {
  type: 'if' | 'with' | 'range';
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList?: ListNode;
}

interface ListNode {
  type: 'list';
  pos: number;
  nodes: Node[];
}

interface PipeNode {
  type: 'pipe';
  pos: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}

interface CommandNode {
  type: 'command';
  pos: number;
  args: ArgNode[];
}

interface VariableNode {
  type: 'variable';
  pos: number;
  ident: string[]; // "$x", then fields
}

type ArgNode =
  | { type: 'field'; pos: number; ident: string[] }
  | VariableNode
  | { type: 'identifier'; pos: number; name: string }
  | { type: 'dot'; pos: number }
  | { type: 'nil'; pos: number }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'number'; pos: number; text: string; value: number; isFloat: boolean }
  | { type: 'string'; pos: number; quoted: string; value: string }
  | { type: 'chain'; pos: number; node: ArgNode; fields: string[] }
  | PipeNode;

function nodeString(n: ArgNode | CommandNode): string {
  switch (n.type) {
    case 'field':
      return n.ident.map((i) => '.' + i).join('');
    case 'variable':
      return n.ident.join('.');
    case 'identifier':
      return n.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'chain': {
      const inner = n.node.type === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node);
      return inner + n.fields.map((f) => '.' + f).join('');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'pipe': {
      const decl = n.decl.length ? n.decl.map((d) => d.ident.join('.')).join(', ') + (n.isAssign ? ' = ' : ' := ') : '';
      return decl + n.cmds.map((c) => nodeString(c)).join(' | ');
    }
  }
}

// ---------------------------------------------------------------- functions

type ArgType = 'any' | 'string' | 'int' | 'strings' | 'bool';

export interface FuncSpec {
  /** Fixed parameter types; with `variadic`, the last one repeats. */
  params: ArgType[];
  variadic?: boolean;
  fn: (...args: Value[]) => Value;
}

export type FuncMap = Record<string, FuncSpec>;

function goTitle(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

function compareValues(a: Value, b: Value, op: string): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'invalid' || kb === 'invalid' || ka === 'bool' || kb === 'bool') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case 'lt':
      return x < y;
    case 'le':
      return x <= y;
    case 'gt':
      return x > y;
    default:
      return x >= y;
  }
}

function basicKind(v: Value): 'bool' | 'number' | 'string' | 'nil' | 'invalid' {
  if (v === undefined || v === null || v instanceof TypedNil) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'invalid';
}

function eq(a: Value, ...rest: Value[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const ka = basicKind(a);
  for (const b of rest) {
    const kb = basicKind(b);
    if (ka === 'nil' || kb === 'nil') {
      if (ka === kb) return true;
      continue;
    }
    if (ka === 'invalid' || kb === 'invalid') throw new Error(`non-comparable type ${goSprint(ka === 'invalid' ? a : b)}: ${goTypeName(ka === 'invalid' ? a : b)}`);
    if (ka !== kb) throw new Error('incompatible types for comparison');
    if (a === b) return true;
  }
  return false;
}

function indexOf(item: Value, ...keys: Value[]): Value {
  let v = item;
  for (const k of keys) {
    if (v instanceof TypedNil) {
      if (v.kind === 'slice') throw new Error(`index out of range: ${goSprint(k)}`);
      v = '';
      continue;
    }
    if (v === undefined || v === null) throw new Error('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'number' || !Number.isInteger(k)) throw new Error(`cannot index slice/array with type ${goTypeName(k)}`);
      const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      if (k < 0 || k >= len) throw new Error(`index out of range: ${k}`);
      v = typeof v === 'string' ? Buffer.from(v)[k] : v[k];
    } else if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof k !== 'string') throw new Error(`value has type ${goTypeName(k)}; should be string`);
      if (Object.prototype.hasOwnProperty.call(o, k)) v = o[k];
      else {
        // a missing key gives the map's zero value: "" for a string map
        const vals = Object.values(o);
        v = vals.every((x) => typeof x === 'string') ? '' : undefined;
      }
    } else {
      throw new Error(`can't index item of type ${goTypeName(v)}`);
    }
  }
  return v;
}

function sliceOf(item: Value, ...idx: Value[]): Value {
  const ints = idx.map((i) => {
    if (typeof i !== 'number' || !Number.isInteger(i)) throw new Error(`cannot index slice/array with type ${goTypeName(i)}`);
    return i;
  });
  if (typeof item === 'string') {
    if (ints.length > 2) throw new Error('cannot 3-index slice a string');
    const len = item.length;
    const [i = 0, j = len] = ints;
    if (i < 0 || j < i || j > len) throw new Error(`index out of range: ${j > len ? j : i}`);
    return item.slice(i, j);
  }
  if (Array.isArray(item)) {
    const [i = 0, j = item.length] = ints;
    if (i < 0 || j < i || j > item.length) throw new Error(`index out of range: ${j > item.length ? j : i}`);
    return item.slice(i, j);
  }
  throw new Error(`can't slice item of type ${goTypeName(item)}`);
}

function length(v: Value): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof TypedNil) return 0;
  if (isMap(v)) return Object.keys(v).length;
  throw new Error(`len of type ${goTypeName(v)}`);
}

/** Go's fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: Value[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += inner(a);
  });
  return out;
}

/** Go's fmt.Sprintf for the common verbs. */
export function sprintf(format: string, args: Value[]): string {
  let out = '';
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const m = /^([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/.exec(format.slice(i + 1));
    if (!m) {
      out += '%!(NOVERB)';
      break;
    }
    i += m[0].length;
    const flags = m[1] ?? '';
    const w = m[2];
    const p = m[3];
    const verb = m[4]!;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    let s: string;
    const prec = p === undefined ? undefined : Number(p);
    switch (verb) {
      case 'v':
        s = flags.includes('#') && typeof a === 'string' ? JSON.stringify(a) : inner(a);
        break;
      case 's':
        s = typeof a === 'string' ? a : inner(a);
        if (prec !== undefined) s = s.slice(0, prec);
        break;
      case 'q':
        s = typeof a === 'string' ? JSON.stringify(a) : `%!q(${goTypeName(a)}=${inner(a)})`;
        break;
      case 'd':
        s = typeof a === 'number' && Number.isInteger(a) ? (flags.includes('+') && a >= 0 ? '+' : '') + String(a) : `%!d(${goTypeName(a)}=${inner(a)})`;
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : `%!t(${goTypeName(a)}=${inner(a)})`;
        break;
      case 'x':
      case 'X': {
        if (typeof a === 'number' && Number.isInteger(a)) s = a.toString(16);
        else if (typeof a === 'string') s = Buffer.from(a).toString('hex');
        else s = `%!${verb}(${goTypeName(a)}=${inner(a)})`;
        if (verb === 'X') s = s.toUpperCase();
        break;
      }
      case 'f':
      case 'F':
        s = typeof a === 'number' ? a.toFixed(prec ?? 6) : `%!f(${goTypeName(a)}=${inner(a)})`;
        break;
      case 'e':
        if (typeof a === 'number') {
          const [mm, ee] = a.toExponential(prec ?? 6).split('e') as [string, string];
          s = `${mm}e${ee.startsWith('-') ? '-' : '+'}${ee.replace(/^[+-]/, '').padStart(2, '0')}`;
        } else s = `%!e(${goTypeName(a)}=${inner(a)})`;
        break;
      case 'g':
        s = typeof a === 'number' ? formatFloat(a) : `%!g(${goTypeName(a)}=${inner(a)})`;
        break;
      case 'c':
        s = typeof a === 'number' ? String.fromCodePoint(a) : `%!c(${goTypeName(a)}=${inner(a)})`;
        break;
      default:
        s = `%!${verb}(${goTypeName(a)}=${inner(a)})`;
    }
    if (w !== undefined && s.length < Number(w)) {
      const padLen = Number(w) - s.length;
      if (flags.includes('-')) s = s + ' '.repeat(padLen);
      else if (flags.includes('0') && /^[dfxXe]$/.test(verb)) s = s.startsWith('-') ? '-' + '0'.repeat(padLen) + s.slice(1) : '0'.repeat(padLen) + s;
      else s = ' '.repeat(padLen) + s;
    }
    out += s;
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${goTypeName(a)}=${inner(a)}`).join(', ') + ')';
  }
  return out;
}

const htmlEscape = (s: string) =>
  s.replace(/[&<>"'\0]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '\0': '\uFFFD' })[c]!);

/** Go's builtins plus docker's functions (templates.basicFunctions). */
export const BASIC_FUNCS: FuncMap = {
  // and/or are evaluated lazily by the executor; these specs give their arity
  and: { params: ['any', 'any'], variadic: true, fn: () => undefined },
  or: { params: ['any', 'any'], variadic: true, fn: () => undefined },
  not: { params: ['any'], fn: (a) => !isTrue(a) },
  len: { params: ['any'], fn: (a) => length(a) },
  index: { params: ['any', 'any'], variadic: true, fn: (item, ...keys) => indexOf(item, ...keys) },
  slice: { params: ['any', 'any'], variadic: true, fn: (item, ...idx) => sliceOf(item, ...idx) },
  print: { params: ['any'], variadic: true, fn: (...a) => sprint(a) },
  println: { params: ['any'], variadic: true, fn: (...a) => a.map(inner).join(' ') + '\n' },
  printf: { params: ['string', 'any'], variadic: true, fn: (f, ...a) => sprintf(f as string, a) },
  eq: { params: ['any', 'any'], variadic: true, fn: (a, ...b) => eq(a, ...b) },
  ne: { params: ['any', 'any'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['any', 'any'], fn: (a, b) => compareValues(a, b, 'lt') },
  le: { params: ['any', 'any'], fn: (a, b) => compareValues(a, b, 'le') },
  gt: { params: ['any', 'any'], fn: (a, b) => compareValues(a, b, 'gt') },
  ge: { params: ['any', 'any'], fn: (a, b) => compareValues(a, b, 'ge') },
  html: { params: ['any'], variadic: true, fn: (...a) => htmlEscape(sprint(a)) },
  urlquery: { params: ['any'], variadic: true, fn: (...a) => encodeURIComponent(sprint(a)).replace(/%20/g, '+') },
  js: { params: ['any'], variadic: true, fn: (...a) => JSON.stringify(sprint(a)).slice(1, -1).replace(/</g, '\\u003C').replace(/>/g, '\\u003E').replace(/'/g, "\\'") },
  // docker's templates.basicFunctions
  json: { params: ['any'], fn: (a) => goJson(a) },
  split: { params: ['string', 'string'], fn: (s, sep) => (s as string).split(sep as string) },
  join: { params: ['strings', 'string'], fn: (a, sep) => (a as string[]).join(sep as string) },
  title: { params: ['string'], fn: (s) => goTitle(s as string) },
  lower: { params: ['string'], fn: (s) => (s as string).toLowerCase() },
  upper: { params: ['string'], fn: (s) => (s as string).toUpperCase() },
  pad: { params: ['string', 'int', 'int'], fn: (s, p, q) => ((s as string) === '' ? '' : ' '.repeat(p as number) + s + ' '.repeat(q as number)) },
  truncate: { params: ['string', 'int'], fn: (s, n) => (Buffer.byteLength(s as string) < (n as number) ? s : Buffer.from(s as string).subarray(0, n as number).toString()) },
};

/** docker's HeaderFunctions: table headers stay as they are. */
export const HEADER_FUNCS: FuncMap = {
  json: { params: ['string'], fn: (v) => v },
  split: { params: ['string', 'string'], fn: (v) => v },
  join: { params: ['string', 'string'], fn: (v) => v },
  title: { params: ['string'], fn: (v) => v },
  lower: { params: ['string'], fn: (v) => v },
  upper: { params: ['string'], fn: (v) => v },
  truncate: { params: ['string', 'int'], fn: (v) => v },
};

// ---------------------------------------------------------------- parser

/** {{end}} and {{else}} (or the start of "else if"), which close lists. */
interface ListEnd {
  type: 'end' | 'else';
  pos: number;
  line: number;
  elseIf?: boolean;
}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;

  constructor(
    private readonly items: Item[],
    private readonly name: string,
    private readonly funcs: FuncMap,
  ) {}

  private error(msg: string, line?: number): never {
    const l = line ?? this.items[Math.max(0, this.i - 1)]?.line ?? 1;
    throw new TemplateError(`template: ${this.name}:${l}: ${msg}`);
  }

  private next(): Item {
    const it = this.items[this.i]!;
    if (it.type === 'error') this.error(it.val, it.line);
    if (it.type !== 'eof') this.i++;
    return it;
  }

  private backup(n = 1): void {
    this.i -= n;
  }

  private peek(): Item {
    const it = this.items[this.i]!;
    if (it.type === 'error') this.error(it.val, it.line);
    return it;
  }

  private nextNonSpace(): Item {
    let it: Item;
    do it = this.next();
    while (it.type === 'space');
    return it;
  }

  private peekNonSpace(): Item {
    const it = this.nextNonSpace();
    this.backup();
    return it;
  }

  private expect(type: ItemType, context: string): Item {
    const it = this.nextNonSpace();
    if (it.type !== type) this.unexpected(it, context);
    return it;
  }

  private unexpected(it: Item, context: string): never {
    if (it.type === 'error') this.error(it.val, it.line);
    this.error(`unexpected ${itemString(it)} in ${context}`, it.line);
  }

  parse(): ListNode {
    const list: ListNode = { type: 'list', pos: 0, nodes: [] };
    while (this.peek().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.error(`unexpected {{${n.type}}}`, (n as ListEnd).line);
      list.nodes.push(n as Node);
    }
    return list;
  }

  private textOrAction(): Node | ListEnd {
    const it = this.nextNonSpace();
    if (it.type === 'text') return { type: 'text', pos: it.pos, text: it.val };
    if (it.type === 'leftDelim') return this.action();
    return this.unexpected(it, 'input');
  }

  private action(): Node | ListEnd {
    const it = this.nextNonSpace();
    if (it.type === 'keyword') {
      switch (it.val) {
        case 'if':
          return this.control('if');
        case 'range':
          return this.control('range');
        case 'with':
          return this.control('with');
        case 'else': {
          const p = this.peekNonSpace();
          if (p.type === 'keyword' && (p.val === 'if' || p.val === 'with')) return { type: 'else', pos: p.pos, line: p.line, elseIf: true };
          this.expect('rightDelim', 'else');
          return { type: 'else', pos: it.pos, line: it.line };
        }
        case 'end':
          this.expect('rightDelim', 'end');
          return { type: 'end', pos: it.pos, line: it.line };
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.error(`{{${it.val}}} outside {{range}}`, it.line);
          this.expect('rightDelim', it.val);
          return { type: it.val, pos: it.pos };
        default:
          this.error(`{{${it.val}}} is not supported in formats`, it.line);
      }
    }
    this.backup();
    const pipe = this.pipeline('command', 'rightDelim');
    return { type: 'action', pos: it.pos, pipe };
  }

  private control(context: 'if' | 'range' | 'with'): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(context, 'rightDelim');
    if (context === 'range') this.rangeDepth++;
    let [list, next] = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (next.type === 'else') {
      if (next.elseIf && (context === 'if' || context === 'with')) {
        // "else if"/"else with": an else list holding one nested control
        const kw = this.nextNonSpace();
        const nested = this.control(kw.val as 'if' | 'with');
        elseList = { type: 'list', pos: next.pos, nodes: [nested] };
      } else {
        [elseList, next] = this.itemList();
        if (next.type !== 'end') this.error(`expected end; found {{${next.type}}}`, next.line);
      }
    }
    this.vars.length = mark;
    return { type: context, pos: pipe.pos, pipe, list, elseList };
  }

  private itemList(): [ListNode, ListEnd] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n as ListEnd];
      list.nodes.push(n as Node);
    }
    this.error('unexpected EOF');
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', pos: first.pos, isAssign: false, decl: [], cmds: [] };
    // declarations: $x := / $x = / $i, $e := (range)
    for (;;) {
      const mark = this.i;
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      this.nextNonSpace();
      const nxt = this.peekNonSpace();
      if (nxt.type === 'assign' || nxt.type === 'declare') {
        pipe.isAssign = nxt.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        break;
      }
      if (nxt.type === 'char' && nxt.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ type: 'variable', pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.type === 'variable' || p.type === 'rightDelim' || p.type === 'rightParen') continue;
          this.error('range can only initialize variables', p.line);
        }
        this.error(`too many declarations in ${context}`, nxt.line);
      }
      // not a declaration: the variable starts a command
      this.i = mark;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) this.error(`missing value for ${context}`, t.line);
        pipe.cmds.slice(1).forEach((c, i) => {
          const a = c.args[0]!;
          if (a.type === 'bool' || a.type === 'dot' || a.type === 'nil' || a.type === 'number' || a.type === 'string') {
            this.error(`non executable command in pipeline stage ${i + 2}`, t.line);
          }
        });
        return pipe;
      }
      switch (t.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.backup();
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.error('empty command');
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type === 'field') {
      const chainPos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
      switch (node.type) {
        case 'field':
          return { type: 'field', pos: chainPos, ident: [...node.ident, ...fields] };
        case 'variable':
          return { type: 'variable', pos: chainPos, ident: [...node.ident, ...fields] };
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.error(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
        default:
          return { type: 'chain', pos: chainPos, node, fields };
      }
    }
    return node;
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!(t.val in this.funcs)) this.error(`function ${JSON.stringify(t.val)} not defined`, t.line);
        return { type: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable': {
        if (!this.vars.includes(t.val)) this.error(`undefined variable ${JSON.stringify(t.val)}`, t.line);
        return { type: 'variable', pos: t.pos, ident: [t.val] };
      }
      case 'field':
        return { type: 'field', pos: t.pos, ident: [t.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant': {
        const s = unquote(t.val.slice(1, -1), "'");
        const cp = s.codePointAt(0);
        if (cp === undefined || [...s].length !== 1) this.error(`malformed character constant: ${t.val}`, t.line);
        return { type: 'number', pos: t.pos, text: t.val, value: cp, isFloat: false };
      }
      case 'number': {
        const text = t.val.replace(/_/g, '');
        let value: number;
        let isFloat = false;
        if (/^[+-]?0[xX]/.test(text)) value = Number.parseInt(text.replace(/0[xX]/, ''), 16);
        else if (/^[+-]?0[oO]/.test(text)) value = Number.parseInt(text.replace(/0[oO]/, ''), 8);
        else if (/^[+-]?0[bB]/.test(text)) value = Number.parseInt(text.replace(/0[bB]/, ''), 2);
        else if (/^[+-]?0[0-7]+$/.test(text)) value = Number.parseInt(text, 8);
        else {
          value = Number(text);
          isFloat = /[.eE]/.test(text);
        }
        if (Number.isNaN(value)) this.error(`bad number syntax: ${JSON.stringify(t.val)}`, t.line);
        if (isFloat && Number.isInteger(value) && !/[eE]/.test(text)) isFloat = true;
        return { type: 'number', pos: t.pos, text: t.val, value, isFloat };
      }
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
        return { type: 'string', pos: t.pos, quoted: t.val, value: unquote(t.val.slice(1, -1), '"') };
      case 'rawString':
        return { type: 'string', pos: t.pos, quoted: t.val, value: t.val.slice(1, -1) };
      default:
        this.backup();
        return undefined;
    }
  }
}

function unquote(s: string, quote: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x':
        out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case 'u':
        out += String.fromCodePoint(Number.parseInt(s.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case 'U':
        out += String.fromCodePoint(Number.parseInt(s.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (e !== undefined && /[0-7]/.test(e)) {
          out += String.fromCharCode(Number.parseInt(s.slice(i, i + 3), 8));
          i += 2;
        } else if (e === quote) out += quote;
        else throw new TemplateError(`invalid syntax`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- executor

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

interface ExecOptions {
  missingKey: 'default' | 'error';
}

class State {
  out = '';
  private vars: { name: string; value: Value }[];
  private at: ArgNode | CommandNode | undefined;

  constructor(
    private readonly tmpl: Template,
    data: Value,
    private readonly opts: ExecOptions,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  error(msg: string): never {
    const at = this.at;
    let loc = `template: ${this.tmpl.name}`;
    let ctx = '';
    if (at) {
      const text = this.tmpl.text.slice(0, at.pos);
      const nl = text.lastIndexOf('\n');
      const col = nl < 0 ? at.pos : at.pos - (nl + 1);
      loc += `:${1 + countNewlines(text)}:${col}`;
      ctx = nodeString(at);
    }
    throw new TemplateError(`${loc}: executing ${JSON.stringify(this.tmpl.name)} at <${ctx}>: ${msg}`);
  }

  private setAt(n: ArgNode | CommandNode): void {
    this.at = n;
  }

  walk(dot: Value, node: Node): void {
    switch (node.type) {
      case 'text':
        this.out += node.text;
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.print(v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node.pipe);
        if (isTrue(v)) this.walk(node.type === 'with' ? v : dot, node.list);
        else if (node.elseList) this.walk(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(dot, node as ControlNode);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private walkRange(dot: Value, node: ControlNode): void {
    const mark = this.vars.length;
    const v = this.evalPipeline(dot, node.pipe);
    const decl = node.pipe.decl;
    const one = (index: Value, elem: Value): boolean => {
      const inner = this.vars.length;
      if (decl.length > 0) {
        if (node.pipe.isAssign) {
          if (decl.length === 1) this.setVar(decl[0]!.ident[0]!, elem);
          else {
            this.setVar(decl[0]!.ident[0]!, index);
            this.setVar(decl[1]!.ident[0]!, elem);
          }
        } else if (decl.length === 1) this.setTopVar(1, elem);
        else {
          this.setTopVar(2, index);
          this.setTopVar(1, elem);
        }
      }
      try {
        this.walk(elem, node.list);
      } catch (e) {
        if (e === BREAK) return false;
        if (e !== CONTINUE) throw e;
      } finally {
        this.vars.length = inner;
      }
      return true;
    };
    let ran = false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        ran = true;
        if (!one(i, v[i])) break;
      }
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      for (let i = 0; i < v; i++) {
        ran = true;
        if (!one(i, i)) break;
      }
    } else if (v === undefined || v === null || v instanceof TypedNil) {
      // nothing to iterate: the else branch
    } else if (isMap(v) || isStruct(v)) {
      if (isStruct(v)) this.error(`range can't iterate over ${goSprint(v)}`);
      for (const k of Object.keys(v).sort()) {
        ran = true;
        if (!one(k, (v as Record<string, unknown>)[k])) break;
      }
    } else {
      this.error(`range can't iterate over ${goSprint(v)}`);
    }
    if (!ran && node.elseList) this.walk(dot, node.elseList);
    this.vars.length = mark;
  }

  private print(v: Value): void {
    if (typeof v === 'function') this.error(`can't print value of type func`);
    this.out += goSprint(v);
  }

  private varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.error(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.error(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: Value): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  private evalPipeline(dot: Value, pipe: PipeNode): Value {
    let value: Value = undefined;
    let hasFinal = false;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value, hasFinal);
      hasFinal = true;
    }
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.ident[0]!, value);
      else this.vars.push({ name: d.ident[0]!, value });
    }
    return value;
  }

  private notAFunction(args: ArgNode[], hasFinal: boolean): void {
    if (args.length > 1 || hasFinal) this.error(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: Value, cmd: CommandNode, final: Value, hasFinal: boolean): Value {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final, hasFinal);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final, hasFinal);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final, hasFinal);
      case 'pipe':
        this.notAFunction(cmd.args, hasFinal);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final, hasFinal);
    }
    this.setAt(first);
    this.notAFunction(cmd.args, hasFinal);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.error('nil is not a command');
      case 'number':
        return first.value;
      case 'string':
        return first.value;
    }
  }

  private evalFieldNode(dot: Value, field: Extract<ArgNode, { type: 'field' }>, args: ArgNode[] | undefined, final: Value, hasFinal: boolean): Value {
    this.setAt(field);
    return this.evalFieldChain(dot, dot, field.ident, args, final, hasFinal);
  }

  private evalChainNode(dot: Value, chain: Extract<ArgNode, { type: 'chain' }>, args: ArgNode[] | undefined, final: Value, hasFinal: boolean): Value {
    if (chain.node.type === 'nil') this.error(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'any', chain.node);
    this.setAt(chain);
    return this.evalFieldChain(dot, pipe, chain.fields, args, final, hasFinal);
  }

  private evalVariableNode(dot: Value, v: VariableNode, args: ArgNode[] | undefined, final: Value, hasFinal: boolean): Value {
    this.setAt(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      if (args) this.notAFunction(args, hasFinal);
      return value;
    }
    return this.evalFieldChain(dot, value, v.ident.slice(1), args, final, hasFinal);
  }

  private evalFieldChain(dot: Value, receiver: Value, ident: string[], args: ArgNode[] | undefined, final: Value, hasFinal: boolean): Value {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, undefined, undefined, false, receiver);
    return this.evalField(dot, ident[n - 1]!, args, final, hasFinal, receiver);
  }

  private evalField(dot: Value, name: string, args: ArgNode[] | undefined, final: Value, hasFinal: boolean, receiver: Value): Value {
    const hasArgs = (args !== undefined && args.length > 1) || hasFinal;
    if (receiver === undefined) {
      if (this.opts.missingKey === 'error') this.error(`nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (receiver === null) this.error(`nil pointer evaluating interface {}.${name}`);
    if (receiver instanceof TypedNil) {
      if (receiver.kind === 'map') {
        if (hasArgs) this.error(`${name} is not a method but has arguments`);
        if (this.opts.missingKey === 'error') this.error(`map has no entry for key ${JSON.stringify(name)}`);
        return undefined;
      }
      this.error(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    }
    if (isStruct(receiver)) {
      if (!Object.prototype.hasOwnProperty.call(receiver, name)) this.error(`can't evaluate field ${name} in type ${receiver[STRUCT_TYPE]}`);
      const field = receiver[name];
      if (field instanceof GoMethod) return this.callMethod(dot, name, field, args, final, hasFinal);
      if (hasArgs) this.error(`${name} has arguments but cannot be invoked as function`);
      return field;
    }
    if (isMap(receiver)) {
      // a map type's own method (docker's SubHeaderContext.Label) comes first, as in Go
      const method = receiver[name];
      if (method instanceof GoMethod) return this.callMethod(dot, name, method, args, final, hasFinal);
      if (hasArgs) this.error(`${name} is not a method but has arguments`);
      if (Object.prototype.hasOwnProperty.call(receiver, name)) return receiver[name];
      if (this.opts.missingKey === 'error') this.error(`map has no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    this.error(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private callMethod(dot: Value, name: string, m: GoMethod, args: ArgNode[] | undefined, final: Value, hasFinal: boolean): Value {
    const argNodes = args ? args.slice(1) : [];
    const nargs = argNodes.length + (hasFinal ? 1 : 0);
    if (nargs !== m.params.length) this.error(`wrong number of args for ${name}: want ${m.params.length} got ${nargs}`);
    const values: Value[] = argNodes.map((a, i) => this.evalArg(dot, m.params[i]!, a));
    if (hasFinal) {
      this.checkType(final, m.params[argNodes.length]!);
      values.push(final);
    }
    try {
      return m.fn(...values);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      this.error(`error calling ${name}: ${(err as Error).message}`);
    }
  }

  private evalFunction(dot: Value, node: Extract<ArgNode, { type: 'identifier' }>, cmd: CommandNode | ArgNode, args: ArgNode[], final: Value, hasFinal: boolean): Value {
    this.setAt(node);
    const name = node.name;
    const spec = this.tmpl.funcs[name];
    if (!spec) this.error(`${JSON.stringify(name)} is not a defined function`);
    const argNodes = args.slice(1);
    const nargs = argNodes.length + (hasFinal ? 1 : 0);
    const fixed = spec.variadic ? spec.params.length - 1 : spec.params.length;
    if (spec.variadic ? nargs < fixed : nargs !== fixed) {
      this.error(`wrong number of args for ${name}: want ${spec.variadic ? 'at least ' : ''}${fixed} got ${nargs}`);
    }
    const typeAt = (i: number): ArgType => spec.params[Math.min(i, spec.params.length - 1)]!;
    // and/or stop at the first argument that decides
    if (name === 'and' || name === 'or') {
      let v: Value = undefined;
      for (let i = 0; i < nargs; i++) {
        v = i < argNodes.length ? this.evalArg(dot, 'any', argNodes[i]!) : final;
        if (isTrue(v) !== (name === 'and')) return v;
      }
      return v;
    }
    const values: Value[] = argNodes.map((a, i) => this.evalArg(dot, typeAt(i), a));
    if (hasFinal) {
      this.checkType(final, typeAt(argNodes.length));
      values.push(final);
    }
    try {
      return spec.fn(...values);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      this.setAt(cmd as CommandNode);
      this.error(`error calling ${name}: ${(err as Error).message}`);
    }
  }

  private checkType(v: Value, type: ArgType): void {
    const ok =
      type === 'any' ||
      (type === 'string' && typeof v === 'string') ||
      (type === 'int' && typeof v === 'number' && Number.isInteger(v)) ||
      (type === 'bool' && typeof v === 'boolean') ||
      (type === 'strings' && (v instanceof TypedNil || (Array.isArray(v) && v.every((x) => typeof x === 'string'))));
    if (ok) return;
    const want = type === 'strings' ? '[]string' : type;
    this.error(`wrong type for value; expected ${want}; got ${goTypeName(v)}`);
  }

  private evalArg(dot: Value, type: ArgType, n: ArgNode): Value {
    this.setAt(n);
    let v: Value;
    switch (n.type) {
      case 'dot':
        v = dot;
        break;
      case 'nil':
        if (type !== 'any') this.error(`cannot assign nil to ${type}`);
        return null;
      case 'field':
        v = this.evalFieldNode(dot, n, [n], undefined, false);
        break;
      case 'variable':
        v = this.evalVariableNode(dot, n, undefined, undefined, false);
        break;
      case 'pipe':
        v = this.evalPipeline(dot, n);
        break;
      case 'identifier':
        v = this.evalFunction(dot, n, n, [n], undefined, false);
        break;
      case 'chain':
        v = this.evalChainNode(dot, n, undefined, undefined, false);
        break;
      case 'bool':
      case 'number':
      case 'string':
        v = n.value;
        if (type === 'int' && n.type === 'number' && n.isFloat) this.error(`expected integer; found ${n.text}`);
        break;
    }
    this.setAt(n);
    this.checkType(v, type);
    return v;
  }
}

export interface TemplateOptions {
  /** The name in error messages ("" for docker's formats). */
  name?: string;
  /** Functions added to (or replacing) the basic ones. */
  funcs?: FuncMap;
}

export class Template {
  readonly name: string;
  readonly text: string;
  readonly funcs: FuncMap;
  private readonly root: ListNode;

  private constructor(text: string, opts: TemplateOptions) {
    this.name = opts.name ?? '';
    this.text = text;
    this.funcs = { ...BASIC_FUNCS, ...opts.funcs };
    this.root = new Parser(lex(text), this.name, this.funcs).parse();
  }

  /** Parses a template; throws TemplateError with Go's message. */
  static parse(text: string, opts: TemplateOptions = {}): Template {
    return new Template(text, opts);
  }

  /** The same parsed template evaluated with other functions (table headers). */
  withFuncs(funcs: FuncMap): Template {
    const t = Object.create(Template.prototype) as Template;
    Object.assign(t, this, { funcs: { ...this.funcs, ...funcs } });
    return t;
  }

  /** Runs the template; throws TemplateError. With missingKey "error", a
   * missing map key fails instead of printing "<no value>". */
  execute(data: unknown, opts: Partial<ExecOptions> = {}): string {
    const state = new State(this, data, { missingKey: opts.missingKey ?? 'default' });
    state.walk(data, this.root);
    return state.out;
  }

  /** Runs the template and keeps the output written before an error, as
   * Go's Execute into a writer does. */
  tryExecute(data: unknown, opts: Partial<ExecOptions> = {}): { out: string; error?: TemplateError } {
    const state = new State(this, data, { missingKey: opts.missingKey ?? 'default' });
    try {
      state.walk(data, this.root);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      return { out: state.out, error: err };
    }
    return { out: state.out };
  }
}

/** Parses then executes in one step. */
export function render(text: string, data: unknown, opts: TemplateOptions & Partial<ExecOptions> = {}): string {
  return Template.parse(text, opts).execute(data, opts);
}

/** End (exclusive) of a quoted literal opening at `pos`, honouring backslash
 * escapes; -1 when a newline or the end of input comes first. */
function quotedEnd(input: string, pos: number, quote: string): number {
  for (let i = pos + 1; ; ) {
    const ch = input[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === undefined || ch === '\n') return -1;
    i++;
    if (ch === quote) return i;
  }
}
