import {
  CopyRowSplitter, copyData, copyFieldValue, copyRowFields, encodeCopyValue, parseCopyOutResponse, rebuildCopyRow,
  type CopyOptions,
} from '../../src/codec/copyRows';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const b = (s: string): Buffer => Buffer.from(s, 'utf8');

// Option sets written out by hand (not through copyStatementOf), PostgreSQL's defaults.
const TEXT: CopyOptions = { format: 'text', delimiter: 0x09, nullString: b('\\N'), quote: 0, escape: 0, header: false, encoding: undefined };
const CSV: CopyOptions = { format: 'csv', delimiter: 0x2c, nullString: b(''), quote: 0x22, escape: 0x22, header: false, encoding: undefined };
// CSV with DELIMITER '|', NULL 'NULL', QUOTE '''', ESCAPE '\'.
const CSV_CUSTOM: CopyOptions = { ...CSV, delimiter: 0x7c, nullString: b('NULL'), quote: 0x27, escape: 0x5c };
const TEXT_PIPE: CopyOptions = { ...TEXT, delimiter: 0x7c, nullString: b('NULL') };

/** The rows a splitter returns for `data` cut at each of `cuts`, as strings. */
function split(options: CopyOptions, data: Buffer, cuts: readonly number[]): { rows: string[]; pending: number } {
  const s = new CopyRowSplitter(options);
  const rows: string[] = [];
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    for (const r of s.push(data, from, cut)) rows.push(r.toString('utf8'));
    from = cut;
  }
  return { rows, pending: s.pending };
}

/** Every way of cutting `data` in two, and in single bytes. */
function everyCut(options: CopyOptions, data: Buffer, want: readonly string[]): void {
  for (let cut = 0; cut <= data.length; cut++) expect(split(options, data, [cut]).rows).toEqual(want);
  expect(split(options, data, Array.from({ length: data.length }, (_, i) => i)).rows).toEqual(want);
}

function values(options: CopyOptions, row: string): (string | null)[] | undefined {
  const buf = b(row);
  const fields = copyRowFields(buf, options);
  return fields?.fields.map((f) => copyFieldValue(buf, f, options)?.toString('utf8') ?? null);
}

describe('CopyOutResponse and CopyData', () => {
  test('decodes the overall format and the per-column formats', () => {
    // H, length 13, text, 3 columns, all text.
    const m = hex('48 0000000d 00 0003 0000 0000 0000');
    expect(parseCopyOutResponse(m, 5, m.length)).toEqual({ binary: false, columnFormats: [0, 0, 0] });
    const bin = hex('48 00000009 01 0001 0001');
    expect(parseCopyOutResponse(bin, 5, bin.length)).toEqual({ binary: true, columnFormats: [1] });
  });

  test('a truncated CopyOutResponse is a protocol violation', () => {
    const m = hex('48 0000000b 00 0003 0000 0000');
    expect(() => parseCopyOutResponse(m, 5, m.length)).toThrow(/malformed CopyOutResponse/);
    expect(() => parseCopyOutResponse(hex('48 00000005 00'), 5, 6)).toThrow(/malformed/);
  });

  test('wraps a payload in a CopyData message', () => {
    expect(copyData(b('1\tx\n'))).toEqual(hex('64 00000008 31 09 78 0a'));
  });
});

describe('CopyRowSplitter', () => {
  test('text: rows end at an unescaped newline, whatever the CopyData boundaries', () => {
    // Escaped newline (\n as two characters), an escaped backslash before a real newline.
    const data = b('1\ta\\nb\n2\tc\\\\\n3\t\\N\n');
    everyCut(TEXT, data, ['1\ta\\nb\n', '2\tc\\\\\n', '3\t\\N\n']);
  });

  test('text: a backslash escaping a raw newline keeps the row open', () => {
    expect(split(TEXT, b('a\\\nb\n'), []).rows).toEqual(['a\\\nb\n']);
  });

  test('CSV: newlines, delimiters and doubled quotes inside quotes do not end a row', () => {
    const data = b('1,"a\nb","x,""y"""\n2,,""\n"3\r\n",z\n');
    everyCut(CSV, data, ['1,"a\nb","x,""y"""\n', '2,,""\n', '"3\r\n",z\n']);
  });

  test('CSV with an escape other than the quote: escaped quotes and escaped escapes', () => {
    // QUOTE '''', ESCAPE '\': 'it\'s' then '\\' (a backslash) then 'a\nb' (a literal backslash before n).
    const data = b("'it\\'s'|'\\\\'|'a\\\nb'\nx|y|z\n");
    everyCut(CSV_CUSTOM, data, ["'it\\'s'|'\\\\'|'a\\\nb'\n", 'x|y|z\n']);
  });

  test('keeps an incomplete row and reports its size', () => {
    expect(split(CSV, b('1,"open\n'), [])).toEqual({ rows: [], pending: 8 });
    expect(split(TEXT, b('1\t2\n3\t'), [])).toEqual({ rows: ['1\t2\n'], pending: 2 });
  });

  test('binary data has no rows', () => {
    expect(() => new CopyRowSplitter({ format: 'binary', quote: 0, escape: 0 })).toThrow(/binary/);
  });
});

describe('fields and values', () => {
  test('text: every backslash escape, the delimiter escaped, the NULL marker', () => {
    expect(values(TEXT, 'a\\bb\\fc\\nd\\re\\tf\\vg\t\\\\\t\\N\t\n')).toEqual(['a\bb\fc\nd\re\tf\vg', '\\', null, '']);
    // Octal (1 to 3 digits) and hex (1 or 2 digits); \x without a hex digit is x; \q is q.
    expect(values(TEXT, '\\101\\7\\0101\t\\x41\\x4g\\xz\\q\n')).toEqual(['A\u0007\b1', 'A\u0004gxzq']);
    expect(values(TEXT_PIPE, 'a\\|b|NULL|\\N\n')).toEqual(['a|b', null, 'N']);
    expect(values(TEXT, 'caf\u00e9\t\\303\\251\n')).toEqual(['caf\u00e9', '\u00e9']);
  });

  test('text: a CR LF line ending is not data, an escaped CR is', () => {
    const row = b('a\tb\r\n');
    expect(copyRowFields(row, TEXT)?.contentEnd).toBe(3);
    expect(values(TEXT, 'a\tb\r\n')).toEqual(['a', 'b']);
    expect(values(TEXT, 'a\tb\\\r\n')).toEqual(['a', 'b\r']);
  });

  test('CSV: unquoted empty is NULL, quoted empty is the empty string, quotes removed', () => {
    expect(values(CSV, '1,,"",x,"a""b","c,d","e\nf"\n')).toEqual(['1', null, '', 'x', 'a"b', 'c,d', 'e\nf']);
    expect(values(CSV, 'a"b"c,\r\n')).toEqual(['abc', null]);
  });

  test('CSV with custom NULL, quote and escape', () => {
    expect(values(CSV_CUSTOM, "NULL|'NULL'||'it\\'s'|'a\\\\b'|'c\\d'\n")).toEqual([null, 'NULL', '', "it's", 'a\\b', 'c\\d']);
  });

  test('a row without a line end, or with an open quote, cannot be read', () => {
    expect(copyRowFields(b('a,b'), CSV)).toBeUndefined();
    expect(copyRowFields(b('a,"b\n'), CSV)).toBeUndefined();
    expect(copyRowFields(b(''), TEXT)).toBeUndefined();
  });
});

describe('encoding values', () => {
  const enc = (v: string | null, o: CopyOptions, quote = false, single = false): string =>
    encodeCopyValue(v === null ? null : b(v), o, quote, single).toString('utf8');

  test('text: escapes what the server escapes, nothing else', () => {
    expect(enc('plain', TEXT)).toBe('plain');
    expect(enc('a\tb\nc\\d\re\bf\fg\vh\u0001', TEXT)).toBe('a\\tb\\nc\\\\d\\re\\bf\\fg\\vh\u0001');
    expect(enc('a|b\tc', TEXT_PIPE)).toBe('a\\|b\\tc');
    expect(enc(null, TEXT)).toBe('\\N');
    expect(enc(null, TEXT_PIPE)).toBe('NULL');
  });

  test('CSV: quoted when needed (delimiter, quote, escape, CR, LF, the NULL marker, \\. alone) or asked', () => {
    expect(enc('plain', CSV)).toBe('plain');
    expect(enc('a,b', CSV)).toBe('"a,b"');
    expect(enc('say "hi"', CSV)).toBe('"say ""hi"""');
    expect(enc('a\nb', CSV)).toBe('"a\nb"');
    expect(enc('a\rb', CSV)).toBe('"a\rb"');
    expect(enc('', CSV)).toBe('""');
    expect(enc(null, CSV)).toBe('');
    expect(enc('x', CSV, true)).toBe('"x"');
    expect(enc('\\.', CSV, false, true)).toBe('"\\."');
    expect(enc('\\.', CSV, false, false)).toBe('\\.');
    expect(enc('NULL', CSV_CUSTOM)).toBe("'NULL'");
    expect(enc("it's a\\b", CSV_CUSTOM)).toBe("'it\\'s a\\\\b'");
    expect(enc('a|b', CSV_CUSTOM)).toBe("'a|b'");
  });

  test('what is encoded decodes to itself, in every option set', () => {
    const tricky = ['', 'plain', 'a,b', 'a|b', 'tab\there', 'new\nline', 'cr\rlf\n', '"q"', "'s'", 'back\\slash', '\\N', 'NULL', '\\.', 'caf\u00e9 \u{1f600}', '\u0001\u0002', ' lead and trail '];
    for (const options of [TEXT, TEXT_PIPE, CSV, CSV_CUSTOM]) {
      for (const v of tricky) {
        // Text format cannot tell a value equal to its NULL marker from NULL (nor can the server).
        if (options.format === 'text' && b(v).equals(options.nullString)) continue;
        for (const quote of [false, true]) {
          const row = Buffer.concat([b('x'), Buffer.from([options.delimiter]), encodeCopyValue(b(v), options, quote, false), b('\n')]);
          const split = copyRowFields(row, options);
          expect(split?.fields.length).toBe(2);
          expect(copyFieldValue(row, split!.fields[1]!, options)?.toString('utf8')).toBe(v);
          // ... and the splitter sees one row, cut anywhere.
          for (let cut = 0; cut <= row.length; cut++) expect(splitRows(options, row, cut)).toEqual([row.toString('utf8')]);
        }
      }
    }
  });
});

function splitRows(options: CopyOptions, data: Buffer, cut: number): string[] {
  return split(options, data, [cut]).rows;
}

describe('rebuildCopyRow', () => {
  test('replaces the named fields, keeps every other byte', () => {
    const row = b('1,"x",\'y\',z\r\n');
    const fields = copyRowFields(row, CSV)!;
    expect(rebuildCopyRow(row, fields, new Map([[3, b('Z')], [1, b('"X"')]])).toString()).toBe('1,"X",\'y\',Z\r\n');
    expect(rebuildCopyRow(row, fields, new Map()).equals(row)).toBe(true);
  });
});
