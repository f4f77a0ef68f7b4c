// Code metrics the architecture is held to (docs/architecture.md), measured with the
// TypeScript compiler API rather than guessed:
//  - function lengths (lines from the `function`/arrow/method start to its end);
//  - `any` written as a type (AnyKeyword nodes), and `as unknown as` casts;
//  - the relative imports of every file (for the dependency rules).
//   npx tsx scripts/code-metrics.ts [--longest N] [--any DIR] [--over LINES]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface FunctionLength {
  file: string;
  name: string;
  line: number;
  lines: number;
  /** A JSX page component (returns markup): exempt from the length rule. */
  jsx: boolean;
}

/** Every .ts/.tsx file under `dir` (relative to the repository root), sorted. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(join(ROOT, d))) {
      const rel = join(d, e);
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
      else if (/\.(ts|tsx)$/.test(e) && !e.endsWith('.d.ts')) out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
}

function nameOf(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p)) return p.name.getText();
  if (p && ts.isPropertyAssignment(p)) return p.name.getText();
  if (p && ts.isPropertyDeclaration(p)) return p.name.getText();
  if (p && ts.isCallExpression(p)) return `(callback of ${p.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

function containsJsx(node: ts.Node): boolean {
  let found = false;
  const visit = (n: ts.Node) => {
    if (found) return;
    if (ts.isJsxElement(n) || ts.isJsxFragment(n) || ts.isJsxSelfClosingElement(n)) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** The length of every function, method and arrow function with a block body. */
export function functionLengths(files: string[]): FunctionLength[] {
  const out: FunctionLength[] = [];
  for (const file of files) {
    const sf = parse(file);
    const visit = (node: ts.Node) => {
      const isFn =
        ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node);
      if (isFn && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        out.push({ file, name: nameOf(node), line: start + 1, lines: end - start + 1, jsx: file.endsWith('.tsx') && containsJsx(node) });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** `any` written as a type, and `as unknown as` casts, per file. */
export function anyUses(files: string[]): { file: string; line: number; kind: 'any' | 'as unknown as' }[] {
  const out: { file: string; line: number; kind: 'any' | 'as unknown as' }[] = [];
  for (const file of files) {
    const sf = parse(file);
    const visit = (node: ts.Node) => {
      const line = () => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      if (node.kind === ts.SyntaxKind.AnyKeyword) out.push({ file, line: line(), kind: 'any' });
      if (ts.isAsExpression(node) && ts.isAsExpression(node.expression) && node.expression.type.kind === ts.SyntaxKind.UnknownKeyword) {
        out.push({ file, line: line(), kind: 'as unknown as' });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

/** The files a file imports (relative imports only, resolved to repository paths; type-only imports included). */
export function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const sf = parse(file);
  const out: { target: string; typeOnly: boolean }[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (spec.startsWith('.')) out.push({ target: relative(ROOT, resolve(ROOT, dirname(file), spec)), typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, !!node.importClause?.isTypeOnly);
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) add(node.argument.literal.text, true);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { longest: { type: 'string', default: '15' }, over: { type: 'string', default: '120' } } });
  const over = Number(values.over);
  for (const dir of ['functions', 'agent', 'protocol']) {
    const all = functionLengths(sourceFiles(dir)).sort((a, b) => b.lines - a.lines);
    const long = all.filter((f) => f.lines > over);
    console.log(`${dir}/: ${all.length} functions, ${long.length} over ${over} lines (${long.filter((f) => f.jsx).length} of them JSX page components)`);
    for (const f of all.slice(0, Number(values.longest))) console.log(`  ${String(f.lines).padStart(4)}  ${f.file}:${f.line} ${f.name}${f.jsx ? ' [jsx]' : ''}`);
  }
  for (const dir of ['test', 'functions']) {
    const uses = anyUses(sourceFiles(dir));
    const n = (k: string) => uses.filter((u) => u.kind === k).length;
    console.log(`${dir}/: ${n('any')} \`any\` types, ${n('as unknown as')} \`as unknown as\``);
    for (const u of uses) console.log(`  ${u.file}:${u.line} ${u.kind}`);
  }
}
