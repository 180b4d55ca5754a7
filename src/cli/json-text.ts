// Re-indents or compacts raw JSON text as Go's json.Indent/json.Compact do:
// the daemon's key order and number spelling are kept as they came.

function scan(src: string, onToken: (tok: string, kind: 'open' | 'close' | 'comma' | 'colon' | 'value') => void): void {
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      onToken(src.slice(i, j + 1), 'value');
      i = j + 1;
    } else if (c === '{' || c === '[') {
      onToken(c, 'open');
      i++;
    } else if (c === '}' || c === ']') {
      onToken(c, 'close');
      i++;
    } else if (c === ',') {
      onToken(c, 'comma');
      i++;
    } else if (c === ':') {
      onToken(c, 'colon');
      i++;
    } else {
      let j = i;
      while (j < src.length && !' \t\n\r,:]}'.includes(src[j]!)) j++;
      onToken(src.slice(i, j), 'value');
      i = j;
    }
  }
}

/** json.Indent(dst, src, "", indent); empty objects and arrays stay "{}" and "[]". */
export function indentJson(src: string, indent: string): string {
  let out = '';
  let depth = 0;
  let pendingOpen = false; // an open bracket whose newline waits for its first element
  const newline = () => '\n' + indent.repeat(depth);
  scan(src, (tok, kind) => {
    if (pendingOpen && kind !== 'close') {
      out += newline();
      pendingOpen = false;
    }
    switch (kind) {
      case 'open':
        out += tok;
        depth++;
        pendingOpen = true;
        break;
      case 'close':
        depth--;
        if (pendingOpen) pendingOpen = false;
        else out += newline();
        out += tok;
        break;
      case 'comma':
        out += ',' + newline();
        break;
      case 'colon':
        out += ': ';
        break;
      default:
        out += tok;
    }
  });
  return out;
}

/** json.Compact: whitespace outside strings removed. */
export function compactJson(src: string): string {
  let out = '';
  scan(src, (tok) => {
    out += tok;
  });
  return out;
}
