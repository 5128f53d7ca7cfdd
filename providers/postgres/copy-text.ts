// PostgreSQL's COPY text format, one field at a time: rows end in "\n", fields are separated by
// "\t", NULL is "\N", and backslash escapes the rest. Only the fields a rule names are decoded;
// the others pass through as they came.

/** A field's text as COPY wrote it → its value (null for \N). */
export function decodeField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  const bytes: number[] = [];
  let plain = '';
  const flush = () => {
    if (bytes.length > 0) {
      plain += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (ch !== '\\' || i + 1 >= field.length) {
      flush();
      plain += ch;
      continue;
    }
    const next = field[++i]!;
    switch (next) {
      case 'b': flush(); plain += '\b'; break;
      case 'f': flush(); plain += '\f'; break;
      case 'n': flush(); plain += '\n'; break;
      case 'r': flush(); plain += '\r'; break;
      case 't': flush(); plain += '\t'; break;
      case 'v': flush(); plain += '\v'; break;
      case 'x': {
        // \xh or \xhh: a byte (in the client encoding, UTF-8)
        const m = /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 1, i + 3));
        if (!m) { flush(); plain += 'x'; break; }
        bytes.push(parseInt(m[0], 16));
        i += m[0].length;
        break;
      }
      default: {
        const m = /^[0-7]{1,3}/.exec(field.slice(i, i + 3));
        if (m) {
          bytes.push(parseInt(m[0], 8) & 0xff);
          i += m[0].length - 1;
        } else {
          flush();
          plain += next;
        }
      }
    }
  }
  flush();
  return plain;
}

/** A value → its COPY text field. */
export function encodeField(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\n\r\t]/.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : value;
}
