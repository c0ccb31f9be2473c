/**
 * `npm run build`: compiles common and the four services with TypeScript (tsconfig.build.json) to
 * `<package>/dist/`, so that `node <service>/dist/main.js` runs with no TypeScript loader.
 *
 * - One program for every package, type-checked first: nothing is written if it has an error.
 * - `<package>/src/x.ts` becomes `<package>/dist/x.js` (and `x.js.map`), the same depth below the
 *   package, so every path the code resolves relative to its own file still lands in the package
 *   (`../templates`, the repository root).
 * - `./x.ts` imports become `./x.js` (rewriteRelativeImportExtensions). `@shop/common` imports
 *   become relative imports of common/dist: its package.json keeps exporting the .ts sources, which
 *   tsx, mocha and tsc need and plain Node cannot load, and nothing but a flag on every tsx run
 *   could tell Node to pick a compiled target instead.
 * - Every other file under `<package>/src` (the .eta views) is copied next to the compiled code.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, 'tsconfig.build.json');
const COMMON = '@shop/common';

export interface BuildResult {
  /** The packages built, each to `<package>/dist`. */
  readonly packages: readonly string[];
  readonly files: number;
  readonly assets: number;
}

/** Builds every package named in tsconfig.build.json; throws with the compiler's messages on an error. */
export function build(): BuildResult {
  const config = readConfig();
  const packages = [...new Set(config.fileNames.map((f) => packageOf(f).name))];
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw new Error(`build failed:\n${format(errors)}`);

  for (const p of packages) rmSync(join(ROOT, p, 'dist'), { recursive: true, force: true });
  const outDir = config.options.outDir!;
  const commonTargets = commonExportsInDist();
  const used = new Set<string>();
  let files = 0;
  const emitted = program.emit(undefined, (fileName, text) => {
    const src = packageOf(join(ROOT, relative(outDir, fileName)));
    const target = join(ROOT, src.name, 'dist', src.rest);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, fileName.endsWith('.map') ? movedSourceMap(text, dirname(fileName), dirname(target)) : text);
    files++;
  }, undefined, false, { after: [commonImportsToDist(commonTargets, used)] });
  if (emitted.emitSkipped || emitted.diagnostics.length > 0) throw new Error(`build failed:\n${format(emitted.diagnostics)}`);
  for (const specifier of used) {
    const file = commonTargets.get(specifier)!;
    if (!existsSync(file)) throw new Error(`build failed: ${specifier} should be compiled to ${relative(ROOT, file)}, which is missing (list its source in tsconfig.build.json "files")`);
  }
  const assets = packages.reduce((n, p) => n + copyAssets(join(ROOT, p, 'src'), join(ROOT, p, 'dist')), 0);
  return { packages, files, assets };
}

function readConfig(): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(CONFIG, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(format([d])); },
  });
  if (!parsed) throw new Error(`cannot read ${CONFIG}`);
  if (parsed.errors.length > 0) throw new Error(format(parsed.errors));
  if (!parsed.options.outDir) throw new Error(`${CONFIG} needs an outDir`);
  return parsed;
}

/** `/repo/order-service/src/http/x.ts` -> { name: 'order-service', rest: 'http/x.ts' }; anything else is a mistake. */
function packageOf(file: string): { name: string; rest: string } {
  const [name, src, ...rest] = relative(ROOT, file).split(sep);
  if (!name || src !== 'src' || rest.length === 0) throw new Error(`build: ${file} is not under <package>/src/; only package sources can be built`);
  return { name, rest: rest.join(sep) };
}

/** Each `@shop/common[/sub]` export of common/package.json -> the absolute path of its compiled file. */
function commonExportsInDist(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'common', 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const map = new Map<string, string>();
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'string' || !/^\.\/src\/.+\.ts$/.test(target)) {
      throw new Error(`build: common/package.json exports "${key}" as ${JSON.stringify(target)}; the build expects a path "./src/....ts"`);
    }
    const specifier = key === '.' ? COMMON : `${COMMON}/${key.slice(2)}`;
    map.set(specifier, join(ROOT, 'common', 'dist', target.slice('./src/'.length).replace(/\.ts$/, '.js')));
  }
  return map;
}

/** Rewrites `@shop/common` import and export specifiers into relative paths to common/dist. */
function commonImportsToDist(targets: ReadonlyMap<string, string>, used: Set<string>): ts.TransformerFactory<ts.SourceFile> {
  return (context) => (sourceFile) => {
    const f = context.factory;
    // The compiled file sits at the same depth below its package as its source, so a path
    // relative to the source's folder is the path relative to the compiled file's folder.
    const here = join(ROOT, packageOf(sourceFile.fileName).name, 'dist', dirname(packageOf(sourceFile.fileName).rest));
    const rewrite = (s: ts.Expression): ts.Expression => {
      if (!ts.isStringLiteral(s) || !(s.text === COMMON || s.text.startsWith(`${COMMON}/`))) return s;
      const target = targets.get(s.text);
      if (!target) throw new Error(`build: ${sourceFile.fileName} imports ${s.text}, which common/package.json does not export`);
      used.add(s.text);
      const rel = relative(here, target).split(sep).join('/');
      return f.createStringLiteral(rel.startsWith('.') ? rel : `./${rel}`);
    };
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isImportDeclaration(node)) {
        return f.updateImportDeclaration(node, node.modifiers, node.importClause, rewrite(node.moduleSpecifier), node.attributes);
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        return f.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, rewrite(node.moduleSpecifier), node.attributes);
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
        return f.updateCallExpression(node, node.expression, node.typeArguments, [rewrite(node.arguments[0]), ...node.arguments.slice(1)]);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitEachChild(sourceFile, visit, context);
  };
}

/** A source map written for `from` now sits in `to`: its `sources` must still reach the .ts files. */
function movedSourceMap(text: string, from: string, to: string): string {
  const map = JSON.parse(text) as { sources: string[] };
  map.sources = map.sources.map((s) => relative(to, resolve(from, s)).split(sep).join('/'));
  return JSON.stringify(map);
}

/** Copies every file that is not TypeScript (views) from src to dist, keeping its place. */
function copyAssets(src: string, dist: string): number {
  let n = 0;
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    const from = join(src, entry.name);
    if (entry.isDirectory()) n += copyAssets(from, join(dist, entry.name));
    else if (entry.isFile() && !entry.name.endsWith('.ts')) {
      mkdirSync(dist, { recursive: true });
      copyFileSync(from, join(dist, entry.name));
      n++;
    }
  }
  return n;
}

function format(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const result = build();
  console.log(`built ${result.files} files and copied ${result.assets} assets into ${result.packages.map((p) => `${p}/dist`).join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log('run a service with: node order-service/dist/main.js (see "Running in production" in README.md)');
}
