// The architecture of docs/architecture.md, held against the code: which part may import
// which, key prefixes built in one place, function lengths, and `any` (measured with the
// TypeScript compiler API by scripts/code-metrics.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { anyUses, functionLengths, importsOf, ROOT, sourceFiles } from '../../scripts/code-metrics.ts';

const MAX_FUNCTION_LINES = 120;

/** Every relative import of the files under `dirs`, as `from → to` (repository paths). */
function edges(...dirs: string[]): { from: string; to: string; typeOnly: boolean }[] {
  return dirs.flatMap((d) => sourceFiles(d)).flatMap((from) => importsOf(from).map((i) => ({ from, to: i.target, typeOnly: i.typeOnly })));
}

/** The package imports (bare specifiers) of a file. */
function packagesOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  return sf.statements.flatMap((s) =>
    (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier) && !s.moduleSpecifier.text.startsWith('.')
      ? [s.moduleSpecifier.text]
      : [],
  );
}

const under = (dir: string) => (path: string) => path === dir || path.startsWith(`${dir}/`);
const render = (list: { from: string; to: string }[]) => list.map((e) => `${e.from} → ${e.to}`);

describe('dependency rules', () => {
  it('protocol/ imports only protocol/ and zod; limits.ts and quota.ts import nothing (the agent bundles them)', () => {
    expect(render(edges('protocol').filter((e) => !under('protocol')(e.to)))).toEqual([]);
    for (const f of sourceFiles('protocol')) expect(packagesOf(f).filter((p) => p !== 'zod'), f).toEqual([]);
    expect(importsOf('protocol/limits.ts')).toEqual([]);
    expect(packagesOf('protocol/limits.ts')).toEqual([]);
    expect(importsOf('protocol/quota.ts')).toEqual([]);
    expect(packagesOf('protocol/quota.ts')).toEqual([]);
  });

  it('agent/ never imports the master (functions/) or the stack (lib/)', () => {
    expect(render(edges('agent').filter((e) => under('functions')(e.to) || under('lib')(e.to)))).toEqual([]);
  });

  it('the domain is pure: it imports only the domain and the protocol, and no package', () => {
    expect(render(edges('functions/domain').filter((e) => !under('functions/domain')(e.to) && !under('protocol')(e.to)))).toEqual([]);
    for (const f of sourceFiles('functions/domain')) expect(packagesOf(f), f).toEqual([]);
  });

  it('the store imports only the store, the domain, lib/ and the protocol (no service, route or app)', () => {
    const allowed = ['functions/store', 'functions/domain', 'functions/lib', 'protocol'].map(under);
    expect(render(edges('functions/store').filter((e) => !allowed.some((a) => a(e.to))))).toEqual([]);
  });

  it('services see the store through its interface only (no DynamoDB, no HTTP)', () => {
    const forbidden = ['functions/routes', 'functions/app.ts', 'functions/handlers', 'functions/local', 'functions/dashboard', 'functions/store/dynamo', 'functions/store/dynamo.ts', 'functions/store/table.ts', 'functions/queue.ts'].map(under);
    expect(render(edges('functions/services').filter((e) => forbidden.some((f) => f(e.to))))).toEqual([]);
    for (const f of sourceFiles('functions/services')) expect(packagesOf(f).filter((p) => p !== 'zod'), f).toEqual([]);
  });

  it('routes call services: no store implementation, handler or local master', () => {
    const forbidden = ['functions/store/dynamo', 'functions/store/dynamo.ts', 'functions/store/table.ts', 'functions/handlers', 'functions/local', 'functions/queue.ts'].map(under);
    expect(render(edges('functions/routes').filter((e) => forbidden.some((f) => f(e.to))))).toEqual([]);
  });

  it('the dashboard reads the API only (no store, service or route); its own login sessions are its only stored data', () => {
    const forbidden = ['functions/store', 'functions/services', 'functions/routes', 'functions/app.ts', 'functions/handlers', 'functions/local'].map(under);
    // sessions.ts keeps sessions through the store's SessionStore (a type); a store outage is a 503 page
    const allowed = (e: { from: string; to: string; typeOnly: boolean }) =>
      (e.from === 'functions/dashboard/sessions.ts' && e.to === 'functions/store/types.ts' && e.typeOnly) || e.to === 'functions/store/errors.ts';
    expect(render(edges('functions/dashboard').filter((e) => forbidden.some((f) => f(e.to)) && !allowed(e)))).toEqual([]);
  });

  it('the notification core is store- and HTTP-server-independent', () => {
    const allowed = ['functions/notify', 'functions/domain', 'protocol'].map(under);
    expect(render(edges('functions/notify').filter((e) => !allowed.some((a) => a(e.to))))).toEqual([]);
  });

  it('the store implementation is entered through functions/store/dynamo.ts, by composition roots only', () => {
    const all = edges('functions', 'bin', 'bench', 'scripts', 'test');
    expect(render(all.filter((e) => under('functions/store/dynamo')(e.to) && !under('functions/store')(e.from)))).toEqual([]);
    const roots = ['functions/handlers', 'functions/local', 'bench', 'test', 'bin'].map(under);
    expect(render(all.filter((e) => e.to === 'functions/store/dynamo.ts' && !roots.some((r) => r(e.from))))).toEqual([]);
  });

  it('only the master CLI entry (bin/) brings the master and the agent together', () => {
    const mixed = edges('functions').filter((e) => under('agent')(e.to));
    expect(render(mixed)).toEqual([]);
  });
});

describe('one definition', () => {
  it('item key prefixes (C#, P#, SR#, B#, R#, Q#, D#, H#, T#) are spelled only in functions/store/table.ts', () => {
    const found: string[] = [];
    for (const file of sourceFiles('functions')) {
      if (file === 'functions/store/table.ts') continue;
      const sf = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
      const visit = (n: ts.Node) => {
        if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
          if (/(^|[^A-Za-z0-9])(C|P|SR|B|R|~R|Q|D|H|T)#/.test(n.text)) found.push(`${file}: ${JSON.stringify(n.text)}`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(found).toEqual([]);
  });
});

describe('size', () => {
  it(`no function over ${MAX_FUNCTION_LINES} lines in functions/, agent/ or protocol/ (JSX page components aside)`, () => {
    const files = [...sourceFiles('functions'), ...sourceFiles('agent'), ...sourceFiles('protocol')];
    const long = functionLengths(files).filter((f) => f.lines > MAX_FUNCTION_LINES && !f.jsx);
    expect(long.map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`)).toEqual([]);
  });

  it('`any` as a type: none in functions/, under 10 in the tests; no `as unknown as` in functions/', () => {
    expect(anyUses(sourceFiles('functions'))).toEqual([]);
    expect(anyUses(sourceFiles('test')).filter((u) => u.kind === 'any').length).toBeLessThan(10);
  });
});
