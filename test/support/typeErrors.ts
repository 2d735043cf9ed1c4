// The TypeScript compiler's errors for a source that exists only in memory: a config written as a typed literal of
// its published types (Grafana's dashboard schema, the Kubernetes models), so a misspelt or unknown field fails.
import ts from 'typescript';
import { fromRoot } from './paths';

/** The errors for `source`, compiled as if it were `relativePath` in the repository, each with the line it points at. */
export function typeErrors(source: string, ...relativePath: string[]): string[] {
  const file = fromRoot(...relativePath);
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    noUnusedLocals: false,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const sourceLines = source.split('\n');
  return ts.getPreEmitDiagnostics(ts.createProgram([file], options, host)).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
    if (!d.file || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName === file ? `line ${line + 1}: ${sourceLines[line]?.trim()}` : d.file.fileName}\n  ${text}`;
  });
}
