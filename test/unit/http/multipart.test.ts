// multipart/form-data: parsing (well-formed and malformed bodies), writing back byte-exact, renaming and new fields.
import assert from 'node:assert/strict';
import {
  encodeMultipart,
  multipartBoundary,
  MultipartError,
  parseMultipart,
  partText,
  renamePart,
  textPart,
  withBoundary,
} from '../../../src/core/http/multipart.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
/** Every byte value, plus CRLFs and text that only looks like a delimiter: what a file part must survive. */
const FILE = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  latin1('\r\n--XyZ-not-a-delimiter\r\n--XyZX\r\n\r\n--Xy\r\n'),
  Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]),
]);
const CANONICAL = Buffer.concat([
  latin1('--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello world\r\n'),
  latin1(
    '--XyZ\r\nContent-Disposition: form-data; name="upload"; filename="r\xc3\xa9sum\xc3\xa9.bin"\r\nContent-Type: application/octet-stream\r\n\r\n',
  ),
  FILE,
  latin1('\r\n--XyZ\r\nContent-Disposition: form-data; name="empty"\r\n\r\n\r\n--XyZ--\r\n'),
]);

function malformed(body: string | Buffer, pattern: RegExp, boundary = 'b'): void {
  assert.throws(
    () => parseMultipart(typeof body === 'string' ? latin1(body) : body, boundary),
    (err: unknown) =>
      err instanceof MultipartError && err.code === 'multipart_malformed' && pattern.test(err.message),
  );
}

describe('multipart/form-data', () => {
  describe('multipartBoundary', () => {
    const cases: [string, string | null][] = [
      ['multipart/form-data; boundary=XyZ', 'XyZ'],
      ['multipart/form-data; BOUNDARY="a b:c"', 'a b:c'],
      ['multipart/form-data;boundary=abc; charset=utf-8', 'abc'],
      ['multipart/form-data; charset=utf-8; boundary = abc', 'abc'],
      ['multipart/form-data', null],
      ['multipart/form-data; boundary=', null],
      ['multipart/form-data; boundary=""', null],
      [`multipart/form-data; boundary=${'x'.repeat(201)}`, null],
    ];
    for (const [type, boundary] of cases)
      it(`${JSON.stringify(type.slice(0, 60))} -> ${boundary}`, () => {
        assert.equal(multipartBoundary(type), boundary);
      });
  });

  describe('parseMultipart', () => {
    it('reads fields and file parts, the file byte for byte', () => {
      const parts = parseMultipart(CANONICAL, 'XyZ');
      assert.deepEqual(
        parts.map((p) => [p.name, p.filename]),
        [
          ['title', null],
          ['upload', 'résumé.bin'],
          ['empty', null],
        ],
      );
      assert.equal(partText(parts[0]!), 'hello world');
      assert.ok(parts[1]!.body.equals(FILE));
      assert.equal(parts[2]!.body.length, 0);
      assert.deepEqual(parts[1]!.headers, [
        'Content-Disposition: form-data; name="upload"; filename="r\xc3\xa9sum\xc3\xa9.bin"',
        'Content-Type: application/octet-stream',
      ]);
    });

    it('ignores a preamble and an epilogue, and padding after a delimiter', () => {
      const body =
        'preamble\r\n--b \t\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--\r\nepilogue';
      const parts = parseMultipart(latin1(body), 'b');
      assert.deepEqual(
        parts.map((p) => [p.name, partText(p)]),
        [['a', '1']],
      );
    });

    it('reads a body written with bare LF throughout', () => {
      const body =
        '--b\nContent-Disposition: form-data; name="a"\n\nline1\r\nline2\n--b\ncontent-disposition: FORM-DATA; NAME="c"\n\n3\n--b--';
      const parts = parseMultipart(latin1(body), 'b');
      assert.deepEqual(
        parts.map((p) => [p.name, partText(p)]),
        [
          ['a', 'line1\r\nline2'],
          ['c', '3'],
        ],
      );
    });

    it('keeps repeated names as separate parts, in order', () => {
      const field = (v: string) => `--b\r\nContent-Disposition: form-data; name="k"\r\n\r\n${v}\r\n`;
      const parts = parseMultipart(latin1(`${field('1')}${field('2')}--b--`), 'b');
      assert.deepEqual(parts.map(partText), ['1', '2']);
    });

    it('unescapes quoted names', () => {
      const body =
        '--b\r\nContent-Disposition: form-data; name="a\\"b\\\\c"; filename="x;y.txt"\r\n\r\nv\r\n--b--';
      const [part] = parseMultipart(latin1(body), 'b');
      assert.equal(part!.name, 'a"b\\c');
      assert.equal(part!.filename, 'x;y.txt');
    });

    it('reads an empty body and a body of only the close delimiter as no parts', () => {
      assert.deepEqual(parseMultipart(Buffer.alloc(0), 'b'), []);
      assert.deepEqual(parseMultipart(latin1('--b--\r\n'), 'b'), []);
    });

    const bad: [string, string, RegExp, string?][] = [
      ['no delimiter at all', 'just text', /no '--b' delimiter/],
      ['only a look-alike delimiter', '--bX\r\n', /no '--b' delimiter/],
      [
        'a truncated body',
        '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhalf a val',
        /part 1: no closing '--b' delimiter/,
      ],
      [
        'a body whose last delimiter is cut',
        '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--',
        /part 1: no closing/,
      ],
      [
        'headers that never end',
        '--b\r\nContent-Disposition: form-data; name="a"\r\n',
        /part 1: its headers do not end/,
      ],
      [
        'headers running into the next delimiter',
        '--b\r\nContent-Disposition: form-data; name="a"\r\n--b\r\nContent-Disposition: form-data; name="c"\r\n\r\nv\r\n--b--',
        /part 1: its headers do not end/,
      ],
      [
        'headers running into the next delimiter, a boundary with a colon',
        '--x:y\r\nContent-Disposition: form-data; name="a"\r\n--x:y\r\nContent-Disposition: form-data; name="c"\r\n\r\nv\r\n--x:y--',
        /part 1: its headers do not end/,
        'x:y',
      ],
      [
        'no Content-Disposition',
        '--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--',
        /part 1: no Content-Disposition/,
      ],
      ['no headers at all', '--b\r\n\r\nv\r\n--b--', /part 1: no Content-Disposition/],
      [
        'a disposition other than form-data',
        '--b\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--b--',
        /'attachment', not form-data/,
      ],
      ['no name', '--b\r\nContent-Disposition: form-data; filename="f"\r\n\r\nv\r\n--b--', /has no name/],
      [
        'a header line without a colon',
        '--b\r\nContent-Disposition: form-data; name="a"\r\nnonsense\r\n\r\nv\r\n--b--',
        /header line without a name and a colon/,
      ],
      [
        'a folded header line',
        '--b\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nv\r\n--b--',
        /folded header lines/,
      ],
      [
        'mixed line ends in the headers',
        '--b\r\nContent-Disposition: form-data; name="a"\nContent-Type: text/plain\r\n\r\nv\r\n--b--',
        /mixed line ends/,
      ],
      [
        'an unterminated quote',
        '--b\r\nContent-Disposition: form-data; name="a\r\n\r\nv\r\n--b--',
        /unterminated quoted name/,
      ],
      [
        'two Content-Dispositions',
        '--b\r\nContent-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"\r\n\r\nv\r\n--b--',
        /more than one Content-Disposition/,
      ],
      [
        'a parameter given twice',
        '--b\r\nContent-Disposition: form-data; name="a"; name="b"\r\n\r\nv\r\n--b--',
        /names name twice/,
      ],
      [
        'text after a quoted value',
        '--b\r\nContent-Disposition: form-data; name="a"x\r\n\r\nv\r\n--b--',
        /unexpected text after the quoted name/,
      ],
      [
        'a parameter without a value',
        '--b\r\nContent-Disposition: form-data; name\r\n\r\nv\r\n--b--',
        /parameter without a value/,
      ],
      [
        'the second part malformed',
        '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--b\r\nX-Only: 1\r\n\r\nw\r\n--b--',
        /^part 2: no Content-Disposition/,
      ],
    ];
    for (const [what, body, pattern, boundary] of bad)
      it(`refuses ${what}`, () => malformed(body, pattern, boundary));
  });

  describe('encodeMultipart', () => {
    it('writes an untouched body back byte for byte', () => {
      const { body, boundary } = encodeMultipart(parseMultipart(CANONICAL, 'XyZ'), 'XyZ');
      assert.equal(boundary, 'XyZ');
      assert.ok(body.equals(CANONICAL));
    });

    it('writes an LF body back with CRLF, contents unchanged', () => {
      const parts = parseMultipart(
        latin1('--b\nContent-Disposition: form-data; name="a"\n\nx\ny\n--b--\n'),
        'b',
      );
      assert.equal(
        encodeMultipart(parts, 'b').body.toString('latin1'),
        '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\ny\r\n--b--\r\n',
      );
    });

    it('renames a file part keeping its file name, type and bytes', () => {
      const [, upload] = parseMultipart(CANONICAL, 'XyZ');
      const renamed = renamePart(upload!, 'document');
      assert.equal(renamed.name, 'document');
      assert.equal(renamed.filename, 'résumé.bin');
      assert.deepEqual(renamed.headers, [
        'Content-Disposition: form-data; name="document"; filename="r\xc3\xa9sum\xc3\xa9.bin"',
        'Content-Type: application/octet-stream',
      ]);
      const [again] = parseMultipart(encodeMultipart([renamed], 'XyZ').body, 'XyZ');
      assert.ok(again!.body.equals(FILE));
      assert.equal(again!.filename, 'résumé.bin');
    });

    it('writes new text fields that parse back to what was put in', () => {
      const parts = [textPart('plain', 'v'), textPart('q"u\\o\u00e9', 'é ü'), textPart('line\r\nbreak', 'x')];
      const back = parseMultipart(encodeMultipart(parts, 'b').body, 'b');
      assert.deepEqual(
        back.map((p) => [p.name, partText(p)]),
        [
          ['plain', 'v'],
          ['q"u\\oé', 'é ü'],
          ['line%0D%0Abreak', 'x'],
        ],
      );
    });

    it('chooses another boundary when a value contains the delimiter', () => {
      const parts = [textPart('a', 'text\r\n--b--\r\n')];
      const { body, boundary } = encodeMultipart(parts, 'b');
      assert.notEqual(boundary, 'b');
      assert.match(boundary, /^----hybrid-[0-9a-f]{24}$/);
      assert.deepEqual(parseMultipart(body, boundary).map(partText), ['text\r\n--b--\r\n']);
    });

    const framing: [string, boolean][] = [
      ['--b\r\nat the start', true],
      ['at the end\r\n--b', true],
      ['at the end, padded\r\n--b \t', true],
      ['inside\r\n--b--', true],
      ['look-alike\r\n--bX\r\n--b-', false],
      ['not at a line start --b\r\n', false],
    ];
    for (const [value, moves] of framing)
      it(`${moves ? 'changes' : 'keeps'} the boundary for a value ${JSON.stringify(value)}`, () => {
        const { body, boundary } = encodeMultipart([textPart('a', value)], 'b');
        assert.equal(boundary !== 'b', moves);
        assert.deepEqual(parseMultipart(body, boundary).map(partText), [value]);
      });

    it('writes no parts as an empty body', () => {
      assert.equal(encodeMultipart([], 'b').body.length, 0);
    });
  });

  describe('withBoundary', () => {
    it('replaces the boundary parameter, quoting when needed, and keeps the others', () => {
      assert.equal(
        withBoundary('multipart/form-data; boundary=old; charset=x', 'new'),
        'multipart/form-data; boundary=new; charset=x',
      );
      assert.equal(
        withBoundary('multipart/form-data; boundary="o l d"', 'n$1 w'),
        'multipart/form-data; boundary="n$1 w"',
      );
      assert.equal(withBoundary('multipart/form-data', 'b'), 'multipart/form-data; boundary=b');
    });
  });
});
