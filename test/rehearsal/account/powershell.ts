/**
 * A small Windows PowerShell 5.1 interpreter for the simulated helper: it parses a script with
 * tree-sitter's PowerShell grammar (WebAssembly, no PowerShell needed) and runs the subset of the
 * language the workflow's scripts use, so the simulated account runs the script's real control
 * flow (try/catch/finally, loops, functions, scopes, $ErrorActionPreference) against a modelled host
 * (native programs, cmdlets of modules, files), not a reading of its words.
 *
 * What is modelled, from Microsoft's documentation:
 * - Native commands and stderr. about_Preference_Variables (PowerShell 7.5,
 *   https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_preference_variables):
 *   "Beginning in PowerShell 7.2, error records redirected from native commands, like when using redirection
 *   operators (2>&1), aren't written to the $Error variable and the preference variable $ErrorActionPreference
 *   doesn't affect the redirected output." So in Windows PowerShell 5.1 each stderr line is an error record
 *   (NativeCommandError) to which the preference applies: under 'Stop' the first one is a terminating error.
 *   (The PowerShell change that ended it, PowerShell/PowerShell#13361: "Stderr output is still wrapped as
 *   ErrorRecords, but the runtime no longer applies $ErrorActionPreference if the ErrorRecord comes from a native
 *   command.") The native program itself runs to its end here (its effects happen) before the error is raised.
 * - $ErrorActionPreference: "Stop: Displays the error message and stops executing"; "Continue: (Default) Displays
 *   the error message and continues executing". A cmdlet's -ErrorAction overrides it for that command.
 * - Scopes (about_Scopes): a function runs in a new child scope; an assignment creates the variable in the current
 *   scope, so `$ErrorActionPreference = 'Continue'` in a function leaves the script's own value alone; reading a
 *   variable finds it in the current scope or a parent.
 * - try/catch/finally (about_Try_Catch_Finally): "a finally block runs even if you use CTRL+C to stop the script"
 *   and after the catch; a terminating error inside finally ends the finally block there.
 * - Redirection (about_Redirection, 5.1): `2>&1` "Redirects the Error stream to the Success stream".
 *
 * Anything outside the subset fails loudly (PowerShellUnsupported), so a script change that uses more of the
 * language shows up as a failing rehearsal, not as a silently skipped statement.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Node as SyntaxNode, Parser as ParserType } from 'web-tree-sitter';

// CommonJS build of web-tree-sitter (its package exports one for require).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Parser, Language } = require('web-tree-sitter') as typeof import('web-tree-sitter');

let parser: ParserType | undefined;
let loading: Promise<void> | undefined;

/** Loads the WebAssembly parser once (asynchronous); `parsePowerShell` needs it done. */
export function loadPowerShellParser(): Promise<void> {
  loading ??= (async () => {
    await Parser.init();
    // The bytes, not a path: web-tree-sitter would read a path with a dynamic import, which jest's CommonJS runtime refuses.
    const language = await Language.load(readFileSync(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')));
    const p = new Parser();
    p.setLanguage(language);
    parser = p;
  })();
  return loading;
}

/** The script's syntax tree; throws on a syntax error (a script PowerShell would not run). */
export function parsePowerShell(script: string): SyntaxNode {
  if (!parser) throw new Error('The PowerShell parser is not loaded: await loadPowerShellParser() first (the rehearsal does it in its setup).');
  const tree = parser.parse(script);
  if (!tree) throw new Error('tree-sitter returned no tree');
  if (tree.rootNode.hasError) {
    const bad = findError(tree.rootNode);
    throw new PowerShellUnsupported(`The script does not parse (line ${(bad?.startPosition.row ?? 0) + 1}): ${bad?.text.slice(0, 80)}`);
  }
  return tree.rootNode;
}

function findError(node: SyntaxNode): SyntaxNode | undefined {
  if (node.type === 'ERROR' || node.isMissing) return node;
  for (const child of node.children) {
    if (child?.hasError) return findError(child) ?? child;
  }
  return undefined;
}

/** A construct the interpreter does not implement. */
export class PowerShellUnsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PowerShellUnsupported';
  }
}

// ------------------------------------------------------------------ values

/** An error record (what `$_` is in a catch block, what a native stderr line becomes). */
export interface ErrorRecord {
  readonly kind: 'ErrorRecord';
  readonly message: string;
  readonly fullyQualifiedErrorId: string;
}

export type Value = string | number | boolean | null | ErrorRecord | { readonly [key: string]: Value } | Value[];

function errorRecord(message: string, id = 'RuntimeException'): ErrorRecord {
  return { kind: 'ErrorRecord', message, fullyQualifiedErrorId: id };
}

function isErrorRecord(v: Value): v is ErrorRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (v as any).kind === 'ErrorRecord';
}

/** How PowerShell turns a value into text (an error record: its message). */
function text(v: Value): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.map(text).join(' ');
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (isErrorRecord(v)) return v.message;
  if (typeof v === 'object') return String((v as any).FullName ?? (v as any).Name ?? '');
  return String(v);
}

function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length === 0 ? false : v.length === 1 ? truthy(v[0]) : true;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  return Boolean(v);
}

/** A pipeline's output as a variable gets it: nothing is $null, one item is itself, more are an array. */
function collapse(items: Value[]): Value {
  return items.length === 0 ? null : items.length === 1 ? items[0] : items;
}

function flatten(v: Value): Value[] {
  return v === null ? [] : Array.isArray(v) ? v : [v];
}

// ------------------------------------------------------------------ control flow

/** A terminating error in flight. */
class Terminating {
  constructor(readonly record: ErrorRecord) {}
}
class BreakSignal {}
class ExitSignal {
  constructor(readonly code: number) {}
}
class ReturnSignal {}

// ------------------------------------------------------------------ the host the script runs on

/** What a native program did when run. */
export interface NativeResult {
  readonly exitCode: number;
  /** Lines in the order written, each to stdout or stderr. */
  readonly lines: ReadonlyArray<{ readonly stream: 'stdout' | 'stderr'; readonly text: string }>;
}

export interface CmdletCall {
  readonly name: string;
  readonly named: Readonly<Record<string, Value>>;
  readonly positional: readonly Value[];
  readonly input: readonly Value[];
}

/** The machine the script runs on: programs, files, modules and their cmdlets. */
export interface PowerShellHost {
  readonly env: Readonly<Record<string, string>>;
  /** Files and directories that exist (Windows paths). */
  fileExists(path: string): boolean;
  /** Files under a directory (for Get-ChildItem -Recurse -Filter). */
  filesUnder(directory: string): string[];
  /** Modules Get-Module -ListAvailable finds. */
  moduleAvailable(name: string): boolean;
  /** Runs a native program (a path that exists). */
  runNative(path: string, args: string[]): NativeResult;
  /** A cmdlet of an imported module: its output, or a thrown Error for a terminating error it raises. */
  runModuleCmdlet(module: string, call: CmdletCall): Value[] | undefined;
  /** Start-Sleep. */
  sleep(seconds: number): void;
}

export interface PowerShellRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

type Scope = Map<string, Value>;
interface FunctionDef { readonly params: string[]; readonly body: SyntaxNode }

/** Runs a parsed script on the host, as `powershell.exe -File` would; returns its exit code and streams. */
export function runPowerShell(program: SyntaxNode, host: PowerShellHost): PowerShellRun {
  return new Interpreter(host).run(program);
}

/** Wrapper nodes of the grammar's precedence ladder: with one named child they are that child. */
const PASS_THROUGH = new Set([
  'program', 'pipeline', 'logical_expression', 'bitwise_expression', 'comparison_expression', 'additive_expression',
  'multiplicative_expression', 'format_expression', 'range_expression', 'array_literal_expression', 'unary_expression',
  'left_assignment_expression', 'string_literal', 'integer_literal', 'primary_expression', 'value', 'expression',
  'statement_list', 'script_block_body', 'pipeline_chain', 'command_name_expr', 'path_command_name', 'for_initializer',
  'for_condition', 'for_iterator', 'while_condition',
]);

class Interpreter {
  private readonly global: Scope = new Map();
  private readonly scopes: Scope[] = [this.global];
  private readonly functions = new Map<string, FunctionDef>();
  private readonly imported = new Set<string>();
  private readonly stdout: string[] = [];
  private readonly stderr: string[] = [];
  /** Script blocks given as arguments (ForEach-Object's), by node id. */
  private readonly blocks = new Map<number, SyntaxNode>();

  constructor(private readonly host: PowerShellHost) {
    this.global.set('erroractionpreference', 'Continue');
    this.global.set('lastexitcode', 0);
  }

  public run(program: SyntaxNode): PowerShellRun {
    let exitCode = 0;
    const out: Value[] = [];
    try {
      try {
        this.statements(program, out);
      } finally {
        // What the script output before it ended (by exit or an error) still reaches stdout.
        this.print(out);
      }
    } catch (signal) {
      if (signal instanceof ExitSignal) {
        exitCode = signal.code;
      } else if (signal instanceof Terminating) {
        // An uncaught terminating error ends the script; powershell.exe -File then exits with 1.
        this.stderr.push(signal.record.message);
        exitCode = 1;
      } else {
        throw signal;
      }
    }
    return { exitCode, stdout: this.stdout.join('\n'), stderr: this.stderr.join('\n') };
  }

  // ---------------------------------------------------------------- statements

  private print(values: Value[]): void {
    for (const v of values) this.stdout.push(text(v));
  }

  /** Runs the statements under `node`, adding what they output to `out`. */
  private statements(node: SyntaxNode, out: Value[]): void {
    for (const child of node.namedChildren) {
      if (!child || child.type === 'comment') continue;
      this.statement(child, out);
    }
  }

  private statement(node: SyntaxNode, out: Value[]): void {
    switch (node.type) {
      case 'statement_list':
      case 'statement_block':
      case 'script_block_body':
        return this.statements(node, out);
      case 'function_statement':
        return this.defineFunction(node);
      case 'if_statement':
        return this.ifStatement(node, out);
      case 'while_statement':
        return this.whileStatement(node, out);
      case 'for_statement':
        return this.forStatement(node, out);
      case 'try_statement':
        return this.tryStatement(node, out);
      case 'flow_control_statement':
        return this.flowControl(node);
      case 'empty_statement':
        return;
      default:
        out.push(...this.pipeline(node));
    }
  }

  private defineFunction(node: SyntaxNode): void {
    const name = node.namedChildren.find(c => c?.type === 'function_name')!.text.toLowerCase();
    const block = node.namedChildren.find(c => c?.type === 'script_block')!;
    const params = descendants(block, 'script_parameter').map(p => descendants(p, 'variable')[0].text.slice(1).toLowerCase());
    const body = block.childForFieldName('script_block_body') ?? block.namedChildren.find(c => c?.type === 'script_block_body');
    if (!body) throw new PowerShellUnsupported(`function ${name} has no body`);
    this.functions.set(name, { params, body });
  }

  private ifStatement(node: SyntaxNode, out: Value[]): void {
    if (truthy(this.condition(node.childForFieldName('condition')!))) {
      return this.statement(directChild(node, 'statement_block')!, out);
    }
    for (const clause of descendantsOfType(node.childForFieldName('elseif_clauses'), 'elseif_clause')) {
      if (truthy(this.condition(clause.childForFieldName('condition')!))) return this.statement(directChild(clause, 'statement_block')!, out);
    }
    const otherwise = node.childForFieldName('else_clause');
    if (otherwise) this.statement(directChild(otherwise, 'statement_block')!, out);
  }

  private whileStatement(node: SyntaxNode, out: Value[]): void {
    const body = directChild(node, 'statement_block')!;
    while (truthy(this.condition(node.childForFieldName('condition')!))) {
      try {
        this.statement(body, out);
      } catch (signal) {
        if (signal instanceof BreakSignal) return;
        throw signal;
      }
    }
  }

  private forStatement(node: SyntaxNode, out: Value[]): void {
    const init = node.childForFieldName('for_initializer');
    const cond = node.childForFieldName('for_condition');
    const step = node.childForFieldName('for_iterator');
    const body = directChild(node, 'statement_block')!;
    if (init) this.pipeline(init);
    while (!cond || truthy(this.condition(cond))) {
      try {
        this.statement(body, out);
      } catch (signal) {
        if (signal instanceof BreakSignal) return;
        throw signal;
      }
      if (step) this.pipeline(step);
    }
  }

  private tryStatement(node: SyntaxNode, out: Value[]): void {
    const body = directChild(node, 'statement_block')!;
    const catchClause = descendantsOfType(node, 'catch_clause').find(c => c.parent?.id === node.id || c.parent?.parent?.id === node.id);
    const finallyClause = directChild(node, 'finally_clause');
    if (catchClause && catchClause.namedChildren.some(c => c?.type === 'catch_type_list')) {
      throw new PowerShellUnsupported('typed catch clauses are not modelled');
    }
    try {
      try {
        this.statement(body, out);
      } catch (signal) {
        if (!(signal instanceof Terminating) || !catchClause) throw signal;
        // In the catch block, $_ is the error record (in the current scope, as PowerShell sets it).
        const scope = this.scopes[this.scopes.length - 1];
        const before = scope.get('_');
        scope.set('_', signal.record);
        try {
          this.statement(directChild(catchClause, 'statement_block')!, out);
        } finally {
          scope.set('_', before ?? null);
        }
      }
    } finally {
      if (finallyClause) this.statement(directChild(finallyClause, 'statement_block')!, out);
    }
  }

  private flowControl(node: SyntaxNode): never {
    const keyword = node.child(0)!.type.toLowerCase();
    const argument = node.namedChildren.find(c => c && c.type !== 'comment');
    switch (keyword) {
      case 'break':
        throw new BreakSignal();
      case 'return':
        throw new ReturnSignal();
      case 'exit':
        throw new ExitSignal(argument ? Number(text(collapse(this.pipeline(argument)))) : 0);
      case 'throw': {
        if (!argument) {
          // A bare `throw` in a catch block rethrows the error being handled.
          const current = this.lookup('_');
          throw new Terminating(isErrorRecord(current as Value) ? current as ErrorRecord : errorRecord('ScriptHalted'));
        }
        const value = collapse(this.pipeline(argument));
        throw new Terminating(isErrorRecord(value) ? value : errorRecord(text(value)));
      }
      default:
        throw new PowerShellUnsupported(`flow control ${keyword}`);
    }
  }

  // ---------------------------------------------------------------- pipelines and commands

  private condition(node: SyntaxNode): Value {
    return collapse(this.pipeline(node));
  }

  /** A pipeline, an assignment, or an expression used as a statement: its output. */
  private pipeline(node: SyntaxNode): Value[] {
    const n = unwrap(node);
    if (n.type === 'assignment_expression') {
      this.assign(n);
      return [];
    }
    if (n.type === 'pipeline_chain' || n.type === 'pipeline') {
      let input: Value[] | undefined;
      for (const command of n.namedChildren) {
        if (!command || command.type === 'comment') continue;
        input = this.element(command, input);
      }
      return input ?? [];
    }
    return this.element(n, undefined);
  }

  /** One element of a pipeline: a command (given the previous element's output) or an expression. */
  private element(node: SyntaxNode, input: Value[] | undefined): Value[] {
    const n = unwrap(node);
    if (n.type === 'command') return this.command(n, input ?? []);
    if (n.type === 'command_name') return this.command(n.parent!.type === 'command' ? n.parent! : n, input ?? []);
    if (input !== undefined) throw new PowerShellUnsupported(`an expression after a pipe: ${n.text}`);
    if (n.type === 'post_increment_expression' || n.type === 'pre_increment_expression') {
      const name = variableName(n.namedChildren[0]!);
      this.set(name, Number(this.lookup(name) ?? 0) + 1);
      return [];
    }
    return flatten(this.expression(n));
  }

  private assign(node: SyntaxNode): void {
    const target = unwrap(node.namedChildren[0]!);
    const operator = node.namedChildren.find(c => c?.type === 'assignement_operator')!.text;
    if (target.type !== 'variable' || operator !== '=') throw new PowerShellUnsupported(`assignment ${node.text.slice(0, 40)}`);
    const value = collapse(this.pipeline(node.childForFieldName('value')!));
    this.set(variableName(target), value);
  }

  private command(node: SyntaxNode, input: Value[]): Value[] {
    const invoke = node.namedChildren.find(c => c?.type === 'command_invokation_operator');
    const nameNode = node.childForFieldName('command_name')!;
    const elements = node.childForFieldName('command_elements');
    const args: Value[] = [];
    const named: Record<string, Value> = {};
    let mergeErrors = false;
    let pendingParameter: string | undefined;
    for (const element of elements?.namedChildren ?? []) {
      if (!element || element.type === 'command_argument_sep' || element.type === 'comment') continue;
      const e = unwrap(element);
      if (e.type === 'command_parameter') {
        if (pendingParameter) named[pendingParameter] = true;
        pendingParameter = e.text.replace(/^-/, '').replace(/:$/, '').toLowerCase();
        continue;
      }
      if (e.type === 'merging_redirection_operator' || e.type === 'redirection') {
        if (e.text.trim() !== '2>&1') throw new PowerShellUnsupported(`redirection ${e.text}`);
        mergeErrors = true;
        continue;
      }
      let value: Value;
      if (e.type === 'generic_token') value = e.text;
      else if (e.type === 'variable' && e.text.startsWith('@')) value = flatten(this.lookup(e.text.slice(1).toLowerCase()) ?? null);
      else if (e.type === 'script_block_expression' || e.type === 'script_block') value = { scriptBlock: e.id } as any;
      else value = this.expression(e);
      if (pendingParameter) {
        named[pendingParameter] = value;
        pendingParameter = undefined;
      } else if (e.type === 'variable' && e.text.startsWith('@')) {
        args.push(...(value as Value[]));
      } else {
        args.push(value);
      }
      if (e.type === 'script_block_expression' || e.type === 'script_block') this.blocks.set(e.id, e);
    }
    if (pendingParameter) named[pendingParameter] = true;

    if (invoke) {
      const target = text(this.expression(unwrap(nameNode)));
      return this.native(target, args.map(text), mergeErrors);
    }
    return this.cmdlet(nameNode.text, args, named, input);
  }

  /** A native program: stdout lines are output; stderr lines are error records (Windows PowerShell 5.1). */
  private native(program: string, args: string[], mergeErrors: boolean): Value[] {
    if (!this.host.fileExists(program)) {
      this.raise(errorRecord(`The term '${program}' is not recognized as the name of a cmdlet, function, script file, or operable program.`, 'CommandNotFoundException'), 'Stop');
    }
    const result = this.host.runNative(program, args);
    this.set('lastexitcode', result.exitCode, this.global);
    const out: Value[] = [];
    for (const line of result.lines) {
      if (line.stream === 'stdout') {
        out.push(line.text);
        continue;
      }
      const record = errorRecord(line.text, 'NativeCommandError');
      // The preference applies to each record (5.1): under Stop, the first one ends the pipeline.
      if (this.preference() === 'stop') throw new Terminating(errorRecord(line.text, 'NativeCommandErrorMessage'));
      if (mergeErrors) out.push(record);
      else this.stderr.push(line.text);
    }
    return out;
  }

  private preference(override?: Value): string {
    return text(override ?? this.lookup('erroractionpreference') ?? 'Continue').toLowerCase();
  }

  /** A non-terminating error under the preference: Stop makes it terminating. */
  private raise(record: ErrorRecord, action?: Value): void {
    if (this.preference(action) === 'stop') throw new Terminating(record);
    if (this.preference(action) !== 'silentlycontinue' && this.preference(action) !== 'ignore') this.stderr.push(record.message);
  }

  private cmdlet(rawName: string, args: Value[], named: Record<string, Value>, input: Value[]): Value[] {
    const name = rawName.toLowerCase();
    const fn = this.functions.get(name);
    if (fn) return this.callFunction(fn, args, named);
    const first = (key: string, position = 0): Value => named[key] ?? args[position] ?? null;
    switch (name) {
      case 'join-path':
        return [`${text(first('path')).replace(/\\+$/, '')}\\${text(first('childpath', 1)).replace(/^\\+/, '')}`];
      case 'test-path':
        return [this.host.fileExists(text(named.literalpath ?? first('path')))];
      case 'write-output':
        return [...input, ...args.flatMap(flatten)];
      case 'write-error':
        this.raise(errorRecord(text(named.message ?? first('message')), 'Microsoft.PowerShell.Commands.WriteErrorException'), named.erroraction);
        return [];
      case 'start-sleep':
        this.host.sleep(Number(text(named.seconds ?? first('seconds'))));
        return [];
      case 'get-module': {
        const module = text(named.name ?? first('name'));
        return this.host.moduleAvailable(module) ? [{ Name: module }] : [];
      }
      case 'import-module': {
        const module = text(named.name ?? first('name'));
        const moduleName = path.win32.basename(module).replace(/\.psd1$/i, '');
        if (!this.host.moduleAvailable(moduleName) && !this.host.fileExists(module)) {
          throw new Terminating(errorRecord(`The specified module '${module}' was not loaded because no valid module file was found in any module directory.`, 'Modules_ModuleNotFound'));
        }
        this.imported.add(moduleName.toLowerCase());
        return [];
      }
      case 'get-childitem': {
        const filter = text(named.filter ?? null).toLowerCase();
        return this.host.filesUnder(text(named.literalpath ?? first('path')))
          .filter(f => !filter || path.win32.basename(f).toLowerCase() === filter)
          .map(f => ({ FullName: f, Name: path.win32.basename(f) }));
      }
      case 'select-object':
        return input.slice(0, Number(text(named.first ?? null)));
      case 'out-string':
        return input.length ? [input.map(text).join('\n') + '\n'] : [''];
      case 'out-null':
        return [];
      case 'foreach-object':
        return this.forEachObject(args[0] ?? named.process, input);
    }
    for (const module of this.imported) {
      const out = this.runModuleCmdlet(module, { name: rawName, named, positional: args, input });
      if (out) return out;
    }
    throw new Terminating(errorRecord(`The term '${rawName}' is not recognized as the name of a cmdlet, function, script file, or operable program.`, 'CommandNotFoundException'));
  }

  private runModuleCmdlet(module: string, call: CmdletCall): Value[] | undefined {
    try {
      return this.host.runModuleCmdlet(module, call);
    } catch (err) {
      throw new Terminating(errorRecord((err as Error).message));
    }
  }

  private forEachObject(block: Value, input: Value[]): Value[] {
    const node = this.blocks.get((block as any)?.scriptBlock);
    if (!node) throw new PowerShellUnsupported('ForEach-Object without a script block');
    const body = descendantsOfType(node, 'script_block_body')[0] ?? descendantsOfType(node, 'statement_list')[0];
    const out: Value[] = [];
    for (const item of input) {
      // The script block runs in the current scope (dot-sourced, as ForEach-Object does) with $_ set.
      const scope = this.scopes[this.scopes.length - 1];
      const before = scope.get('_');
      scope.set('_', item);
      try {
        if (body) this.statements(body, out);
      } finally {
        scope.set('_', before ?? null);
      }
    }
    return out;
  }

  private callFunction(fn: FunctionDef, args: Value[], named: Record<string, Value>): Value[] {
    const scope: Scope = new Map();
    fn.params.forEach((p, i) => scope.set(p, named[p] ?? args[i] ?? null));
    this.scopes.push(scope);
    const out: Value[] = [];
    try {
      this.statements(fn.body, out);
    } catch (signal) {
      if (!(signal instanceof ReturnSignal)) throw signal;
    } finally {
      this.scopes.pop();
    }
    return out;
  }

  // ---------------------------------------------------------------- expressions

  private expression(node: SyntaxNode): Value {
    const n = unwrap(node);
    switch (n.type) {
      case 'variable':
        return this.variable(n);
      case 'decimal_integer_literal':
        return Number(n.text);
      case 'verbatim_string_characters':
        return n.text.slice(1, -1).replace(/''/g, '\'');
      case 'expandable_string_literal':
        return this.expandString(n);
      case 'generic_token':
        return n.text;
      case 'array_literal_expression':
        return n.namedChildren.filter(c => c && c.type !== 'comment').map(c => this.expression(c!));
      case 'array_expression': {
        const out: Value[] = [];
        const statements = n.childForFieldName('statements');
        if (statements) this.statements(statements, out);
        return out;
      }
      case 'sub_expression': {
        const out: Value[] = [];
        const statements = n.childForFieldName('statements');
        if (statements) this.statement(statements, out);
        return collapse(out);
      }
      case 'parenthesized_expression':
        return collapse(this.pipeline(n.namedChildren[0]!));
      case 'member_access': {
        const target = this.expression(n.namedChildren[0]!);
        const member = n.namedChildren[1]!.text;
        return this.member(target, member);
      }
      case 'expression_with_unary_operator': {
        const operator = n.child(0)!.text.toLowerCase();
        const operand = this.expression(n.namedChildren[0]!);
        if (operator === '-not' || operator === '!') return !truthy(operand);
        throw new PowerShellUnsupported(`unary ${operator}`);
      }
      case 'comparison_expression':
        return this.binary(n, n.namedChildren.find(c => c?.type === 'comparison_operator')!.text.toLowerCase());
      case 'logical_expression': {
        const operator = n.children.find(c => c && !c.isNamed)!.text.toLowerCase();
        const left = truthy(this.expression(n.namedChildren[0]!));
        if (operator === '-and') return left && truthy(this.expression(n.namedChildren[1]!));
        if (operator === '-or') return left || truthy(this.expression(n.namedChildren[1]!));
        throw new PowerShellUnsupported(`logical ${operator}`);
      }
      case 'command':
      case 'pipeline':
      case 'pipeline_chain':
        return collapse(this.pipeline(n));
    }
    throw new PowerShellUnsupported(`expression ${n.type}: ${n.text.slice(0, 60)}`);
  }

  private binary(n: SyntaxNode, operator: string): Value {
    const [l, r] = n.namedChildren.filter(c => c?.type !== 'comparison_operator');
    const left = this.expression(l!);
    const right = this.expression(r!);
    const num = (v: Value) => Number(text(v));
    switch (operator) {
      case '-join':
        return flatten(left).map(text).join(text(right));
      case '-eq': return typeof left === 'number' ? left === num(right) : text(left).toLowerCase() === text(right).toLowerCase();
      case '-ne': return typeof left === 'number' ? left !== num(right) : text(left).toLowerCase() !== text(right).toLowerCase();
      case '-ge': return num(left) >= num(right);
      case '-gt': return num(left) > num(right);
      case '-le': return num(left) <= num(right);
      case '-lt': return num(left) < num(right);
    }
    throw new PowerShellUnsupported(`operator ${operator}`);
  }

  private member(target: Value, member: string): Value {
    const m = member.toLowerCase();
    if (isErrorRecord(target)) {
      if (m === 'exception') return { Message: target.message };
      if (m === 'fullyqualifiederrorid') return target.fullyQualifiedErrorId;
    }
    if (target && typeof target === 'object' && !Array.isArray(target)) {
      const key = Object.keys(target).find(k => k.toLowerCase() === m);
      if (key) return (target as any)[key];
    }
    return null;
  }

  private expandString(n: SyntaxNode): Value {
    const raw = n.text.slice(1, -1);
    const start = n.startIndex + 1;
    let result = '';
    let at = 0;
    for (const child of n.namedChildren) {
      if (!child) continue;
      result += unescape(raw.slice(at, child.startIndex - start));
      result += text(this.expression(child));
      at = child.endIndex - start;
    }
    return result + unescape(raw.slice(at));
  }

  private variable(n: SyntaxNode): Value {
    const raw = n.text;
    const env = raw.match(/^\$env:(\w+)$/i);
    if (env) return this.host.env[Object.keys(this.host.env).find(k => k.toLowerCase() === env[1].toLowerCase()) ?? ''] ?? null;
    const name = variableName(n);
    if (name === 'true') return true;
    if (name === 'false') return false;
    if (name === 'null') return null;
    return this.lookup(name) ?? null;
  }

  // ---------------------------------------------------------------- scopes

  private lookup(name: string): Value | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      if (this.scopes[i].has(name)) return this.scopes[i].get(name);
    }
    return undefined;
  }

  private set(name: string, value: Value, scope = this.scopes[this.scopes.length - 1]): void {
    scope.set(name, value);
  }
}

function variableName(n: SyntaxNode): string {
  return unwrap(n).text.replace(/^[$@]/, '').replace(/^(script|global|local):/i, '').toLowerCase();
}

/** Backtick escapes of an expandable string. */
function unescape(s: string): string {
  return s.replace(/`(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t', 0: '\0' } as Record<string, string>)[c] ?? c);
}

/** The node itself, or, through the grammar's one-child wrappers, the node that means something. */
function unwrap(node: SyntaxNode): SyntaxNode {
  let n = node;
  while (PASS_THROUGH.has(n.type) && n.namedChildren.filter(c => c && c.type !== 'comment').length === 1) {
    n = n.namedChildren.find(c => c && c.type !== 'comment')!;
  }
  return n;
}

function directChild(node: SyntaxNode, type: string): SyntaxNode | undefined {
  return node.namedChildren.find(c => c?.type === type) ?? undefined;
}

function descendants(node: SyntaxNode, type: string): SyntaxNode[] {
  return node.descendantsOfType(type).filter((n): n is SyntaxNode => Boolean(n));
}

function descendantsOfType(node: SyntaxNode | null | undefined, type: string): SyntaxNode[] {
  return node ? descendants(node, type) : [];
}
