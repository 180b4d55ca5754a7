// The template engine against Go text/template behaviour; expected values
// and error texts are what docker 28 printed for the same templates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Template, TemplateError, TypedNil, goJson, goSprint, goStruct, render, sprintf } from './format.ts';

const image = {
  Id: 'sha256:aaaa',
  Os: 'linux',
  Size: 4261574,
  Float: 1.5,
  RepoTags: ['busybox:latest', 'busybox:1.36'],
  Config: {
    Env: ['PATH=/usr/bin', 'A=<b>&c'],
    Cmd: ['sh'],
    Labels: { 'org.x': 'y', b: '2' },
    Entrypoint: new TypedNil('slice'),
    Volumes: new TypedNil('map'),
  },
  RootFS: { Type: 'layers', Layers: ['sha256:1'] },
};

const run = (tmpl: string, data: unknown = image) => render(tmpl, data, { missingKey: 'error' });
const fails = (tmpl: string, message: string, data: unknown = image) =>
  assert.throws(() => run(tmpl, data), (err: unknown) => err instanceof TemplateError && err.message === message);

test('fields, nested fields and Go value printing', () => {
  assert.equal(run('{{.Os}}'), 'linux');
  assert.equal(run('{{.Config.Env}}'), '[PATH=/usr/bin A=<b>&c]');
  assert.equal(run('{{.Size}} {{.Float}}'), '4261574 1.5');
  assert.equal(run('{{.Config.Labels}}'), 'map[b:2 org.x:y]');
  assert.equal(run('{{.RootFS}}'), '{layers [sha256:1]}');
  assert.equal(run('{{.Config.Entrypoint}}|{{.Config.Volumes}}'), '[]|map[]');
  assert.equal(run('{{3}} {{true}}'), '3 true');
  assert.equal(run('{{.}}', 'plain'), 'plain');
});

test('json: maps sorted, structs in order, no HTML escaping', () => {
  assert.equal(run('{{json .Config.Labels}}'), '{"b":"2","org.x":"y"}');
  assert.equal(run('{{json .Config.Env}}'), '["PATH=/usr/bin","A=<b>&c"]');
  assert.equal(run('{{json .RootFS}}'), '{"Type":"layers","Layers":["sha256:1"]}');
  assert.equal(run('{{json .Config.Entrypoint}}'), 'null');
  assert.equal(run('{{.Os | json}}'), '"linux"');
  assert.equal(run('{{json .X}}', { X: '\u2028' }), '"\\u2028"');
  assert.equal(goJson({ b: 1, a: [1.5, null, true] }), '{"a":[1.5,null,true],"b":1}');
});

test('index, len, slice, join, split, upper, lower, title, pad, truncate', () => {
  assert.equal(run('{{index .Config.Labels "org.x"}}'), 'y');
  assert.equal(run('{{index .Config.Labels "nope"}}'), '');
  assert.equal(run('{{index .RepoTags 1}}'), 'busybox:1.36');
  assert.equal(run('{{index .Os 1}}'), '105'); // a byte, as Go gives it
  assert.equal(run('{{len .RepoTags}} {{len .Os}} {{len .Config.Labels}}'), '2 5 2');
  assert.equal(run('{{slice .Os 1 3}} {{slice .RepoTags 1}}'), 'in [busybox:1.36]');
  assert.equal(run('{{join .RepoTags ","}}'), 'busybox:latest,busybox:1.36');
  assert.equal(run('{{split .Os "n"}}'), '[li ux]');
  assert.equal(run('{{upper .Os}} {{lower "ABC"}} {{title "hello world"}}'), 'LINUX abc Hello World');
  assert.equal(run('[{{pad .Os 1 2}}][{{pad "" 1 2}}]'), '[ linux  ][]');
  assert.equal(run('{{truncate .Os 3}} {{truncate .Os 30}}'), 'lin linux');
});

test('range over lists and maps, with variables, else, break and continue', () => {
  assert.equal(run('{{range .RepoTags}}{{.}} {{end}}'), 'busybox:latest busybox:1.36 ');
  assert.equal(run('{{range $i, $t := .RepoTags}}{{$i}}={{$t}};{{end}}'), '0=busybox:latest;1=busybox:1.36;');
  assert.equal(run('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}'), 'b=2;org.x=y;');
  assert.equal(run('{{range $t := .RepoTags}}{{$t}}{{break}}{{end}}'), 'busybox:latest');
  assert.equal(run('{{range .Config.Env}}{{if eq . "PATH=/usr/bin"}}{{continue}}{{end}}{{.}}{{end}}'), 'A=<b>&c');
  assert.equal(run('{{range .Config.Entrypoint}}x{{else}}none{{end}}'), 'none');
  assert.equal(run('{{range .Config.Entrypoint}}x{{end}}'), '');
  assert.equal(run('{{range 3}}{{.}}{{end}}'), '012');
});

test('if / else if / else, with, and/or/not, comparisons', () => {
  assert.equal(run('{{if eq .Os "linux"}}L{{else if eq .Os "x"}}X{{else}}O{{end}}'), 'L');
  assert.equal(run('{{if eq .Os "x"}}L{{else if eq .Os "linux"}}X{{else}}O{{end}}'), 'X');
  assert.equal(run('{{if .Config.Entrypoint}}yes{{else}}no{{end}}'), 'no');
  assert.equal(run('{{with .Config}}{{.Cmd}}{{end}}'), '[sh]');
  assert.equal(run('{{with .Config.Entrypoint}}x{{else}}empty{{end}}'), 'empty');
  assert.equal(run('{{and 1 0}} {{or 0 "" "x"}} {{not 1}}'), '0 x false');
  assert.equal(run('{{eq .Os "linux"}} {{ne .Size 4261574}} {{eq .Os "a" "linux"}}'), 'true false true');
  assert.equal(run('{{lt 1 2}} {{ge "b" "a"}} {{ne .X nil}}', { X: { a: 1 } }), 'true true true');
});

test('variables, pipelines, parentheses, literals, comments, trim markers', () => {
  assert.equal(run('{{$x := .Os}}{{$x}}-{{$x = "y"}}{{$x}}'), 'linux-y');
  assert.equal(run('{{"a" | printf "%s-%s" "b"}}'), 'b-a');
  assert.equal(run('{{(.Config).Cmd}} {{(index .RepoTags 0) | upper}}'), '[sh] BUSYBOX:LATEST');
  assert.equal(run('{{`raw\\n`}} {{"esc\\t"}}'), 'raw\\n esc\t');
  assert.equal(run('{{/* a comment */}}ok'), 'ok');
  assert.equal(run('{{ .Os -}}  x  {{- .Os }}'), 'linuxxlinux');
  assert.equal(run("{{'a'}} {{0x10}} {{1_000}}"), '97 16 1000');
  assert.equal(run('{{$}}', 'root'), 'root');
});

test('print, println and printf as Go formats them', () => {
  assert.equal(run('{{print 1 2 "a" "b" 3}}'), '1 2ab3');
  assert.equal(run('{{println .Os .Size}}'), 'linux 4261574\n');
  assert.equal(run('{{printf "%q %5d|%-6s|%v" .Os .Size .Os .RepoTags}}'), '"linux" 4261574|linux |[busybox:latest busybox:1.36]');
  assert.equal(sprintf('%d %s %x %05d %.2f %t %%', [1, 'a', 255, 42, 1.005, true]), '1 a ff 00042 1.00 true %');
  assert.equal(sprintf('%d', ['x']), '%!d(string=x)');
  assert.equal(sprintf('%s %s', ['a']), 'a %!s(MISSING)');
  assert.equal(sprintf('%s', ['a', 1]), 'a%!(EXTRA int=1)');
});

test('missing keys: "<no value>" by default, an error when asked', () => {
  assert.equal(render('{{.Nope}}', { a: 1 }), '<no value>');
  fails('{{.Nope}}', 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"');
  fails('{{.Config.Nope.X}}', 'template: :1:9: executing "" at <.Config.Nope.X>: map has no entry for key "Nope"');
});

test('struct contexts reject unknown fields with docker\'s message', () => {
  const ctx = goStruct('*formatter.imageContext', { ID: 'abc', Repository: 'busybox' });
  assert.equal(render('{{.ID}} {{.Repository}}', ctx), 'abc busybox');
  assert.throws(() => render('{{.Foo}}', ctx), {
    message: 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.imageContext',
  });
  assert.throws(() => render('{{.ID.Foo}}', ctx), {
    message: 'template: :1:5: executing "" at <.ID.Foo>: can\'t evaluate field Foo in type string',
  });
  assert.throws(() => render('{{.ID}}\t{{.Repository}}\t{{.Foo}}', ctx), { message: /^template: :1:26: executing/ });
  const withJson = goStruct('t', { B: 1, A: 2 }, () => '{"custom":true}');
  assert.equal(render('{{json .}}', withJson), '{"custom":true}');
});

test('parse errors read as Go\'s', () => {
  const cases: [string, string][] = [
    ['{{foo}}', 'function "foo" not defined'],
    ['{{.ID', 'unclosed action'],
    ['{{.Os}}{{', 'unclosed action'],
    ['{{if .ID}}x', 'unexpected EOF'],
    ['{{if}}', 'missing value for if'],
    ['{{end}}', 'unexpected {{end}}'],
    ['{{else}}', 'unexpected {{else}}'],
    ['{{$y}}', 'undefined variable "$y"'],
    ['{{"abc}}', 'unterminated quoted string'],
    ['{{)}}', 'unexpected right paren'],
    ['{{.Os.}}', 'unexpected <.> in operand'],
    ['{{.Os | foo}}', 'function "foo" not defined'],
    ['{{.Foo-bar}}', "bad character U+002D '-'"],
    ['{{/* open', 'unclosed comment'],
    ['{{break}}', '{{break}} outside {{range}}'],
    ['{{.A | "x"}}', 'non executable command in pipeline stage 2'],
  ];
  for (const [tmpl, msg] of cases) {
    assert.throws(() => Template.parse(tmpl), { name: 'TemplateError', message: `template: :1: ${msg}` }, tmpl);
  }
  assert.throws(() => Template.parse('{{.A}}\n{{end}}', { name: 'version' }), { message: 'template: version:2: unexpected {{end}}' });
});

test('execution errors name the node and position, as Go does', () => {
  fails('{{len}}', 'template: :1:2: executing "" at <len>: wrong number of args for len: want 1 got 0');
  fails('{{.Os | len 1}}', 'template: :1:8: executing "" at <len>: wrong number of args for len: want 1 got 2');
  fails('{{printf}}', 'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0');
  fails('{{index .RepoTags 5}}', 'template: :1:2: executing "" at <index .RepoTags 5>: error calling index: index out of range: 5');
  fails('{{.Os "x"}}', 'template: :1:2: executing "" at <.Os>: Os is not a method but has arguments');
  fails('{{1 | .Os}}', 'template: :1:6: executing "" at <.Os>: Os is not a method but has arguments');
  fails('{{upper .Size}}', 'template: :1:8: executing "" at <.Size>: wrong type for value; expected string; got int');
  fails('{{eq 1 "a"}}', 'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison');
  fails('{{range .Os}}{{end}}', 'template: :1:8: executing "" at <.Os>: range can\'t iterate over linux');
  fails('{{nil}}', 'template: :1:2: executing "" at <nil>: nil is not a command');
  fails('{{.Size.X}}', 'template: :1:7: executing "" at <.Size.X>: can\'t evaluate field X in type int');
  fails('{{len .Size}}', 'template: :1:2: executing "" at <len .Size>: error calling len: len of type int');
});

test('tryExecute keeps the output written before an error', () => {
  const r = Template.parse('a{{.X}}b{{.Y.Z}}c').tryExecute({ X: 1, Y: 'str' });
  assert.equal(r.out, 'a1b');
  assert.match(r.error!.message, /can't evaluate field Z in type string/);
});

test('custom functions and the header functions', () => {
  const t = Template.parse('{{double .N}}', { funcs: { double: { params: ['int'], fn: (n) => (n as number) * 2 } } });
  assert.equal(t.execute({ N: 21 }), '42');
  const header = Template.parse('{{.Repository | upper}}:{{json .Tag}}:{{len .ID}}');
  assert.equal(header.execute({ Repository: 'repo', Tag: 't', ID: 'abc' }), 'REPO:"t":3');
});

test('goSprint of numbers follows Go\'s %v for int64 and float64', () => {
  assert.equal(goSprint(1e21), '1e+21');
  assert.equal(goSprint(1234567.5), '1.2345675e+06');
  assert.equal(goSprint(0.00001), '1e-05');
  assert.equal(goSprint(-3), '-3');
  assert.equal(goSprint(null), '<nil>');
  assert.equal(goSprint(undefined), '<no value>');
});
