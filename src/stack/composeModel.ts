// Read stack/compose.yaml into a typed model: interpolate variables, accept only the keys the extension maps
// onto the Engine API (docs/architecture.md), resolve relative binds against the file's folder.
// Every problem is an InvalidComposeError naming the file, the line/column and the key path. No `vscode` import.
// Why one file of this size: it is one reader of one grammar (every mapped key, its forms and its errors), read top
// to bottom against docs/architecture.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { InvalidComposeError } from './errors';

export interface ComposeModel {
  /** Project name (`name:`), e.g. `claude-code-telemetry`. */
  name: string;
  /** Absolute path of the compose file. */
  file: string;
  /** Absolute folder of the compose file: relative binds resolve here. */
  dir: string;
  /** In file order. */
  services: ServiceModel[];
  /** Named volume keys declared at the top level. */
  volumes: string[];
}

export interface ServiceModel {
  name: string;
  image: string;
  /** Variables whose value went into `image` (e.g. CCT_PROMETHEUS_IMAGE): the settings that move it. */
  imageVariables: string[];
  command?: string[];
  environment: Record<string, string>;
  ports: PortMapping[];
  volumes: VolumeMount[];
  healthcheck?: Healthcheck;
  restart?: RestartPolicy;
  /** Bytes. */
  memLimit?: number;
  dependsOn: Dependency[];
  user?: string;
}

export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** The variable that set the host port, when one did (e.g. CCT_PROMETHEUS_PORT). */
  variable?: string;
}

export type VolumeMount =
  | { type: 'volume'; source: string; target: string; readOnly: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean };

export interface Healthcheck {
  /** Engine form: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]. */
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  retries?: number;
  startPeriodNs?: number;
}

export interface RestartPolicy {
  name: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  maximumRetryCount?: number;
}

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  service: string;
  condition: DependencyCondition;
}

export interface LoadOptions {
  /** Variables for `${VAR}` interpolation (the settings-backed CCT_* values, GRAFANA_ADMIN_PASSWORD, ...). */
  variables: Readonly<Record<string, string | undefined>>;
  /** Overrides `name:` (tests use a unique name per test). */
  projectName?: string;
}

export const TOP_LEVEL_KEYS = ['name', 'services', 'volumes'] as const;
export const SERVICE_KEYS = [
  'image',
  'command',
  'environment',
  'ports',
  'volumes',
  'healthcheck',
  'restart',
  'mem_limit',
  'depends_on',
  'user',
] as const;
export const HEALTHCHECK_KEYS = ['test', 'interval', 'timeout', 'retries', 'start_period'] as const;
const DEPENDS_ON_KEYS = ['condition'] as const;
const LONG_VOLUME_KEYS = ['type', 'source', 'target', 'read_only'] as const;

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

export function loadComposeFile(file: string, options: LoadOptions): ComposeModel {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    throw new InvalidComposeError(abs, `cannot read it (${(err as Error).message})`);
  }
  return parseCompose(text, abs, options);
}

/** Parse compose text; `file` (absolute) names it in errors and anchors relative binds. */
export function parseCompose(text: string, file: string, options: LoadOptions): ComposeModel {
  return new Parser(text, path.resolve(file), options).parse();
}

// ---------------------------------------------------------------------------------------------------------------
// Interpolation

export interface Interpolated {
  value: string;
  /** Output ranges produced by a variable (its value or its default), with the variable's name. */
  spans: { start: number; end: number; variable: string }[];
}

/**
 * Compose-style interpolation: `$$` → `$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `${VAR+alt}`; defaults may nest. An unset variable with no
 * default is an error (the extension supplies every variable the stack uses).
 */
export function interpolate(
  input: string,
  vars: Readonly<Record<string, string | undefined>>,
): Interpolated | { error: string } {
  let out = '';
  const spans: Interpolated['spans'] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      // find the matching brace
      let depth = 1;
      let j = i + 2;
      while (j < input.length && depth > 0) {
        if (input[j] === '{') depth++;
        else if (input[j] === '}') depth--;
        if (depth > 0) j++;
      }
      if (depth !== 0) return { error: `unclosed "\${" in "${input}"` };
      const body = input.slice(i + 2, j);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
      if (!m) return { error: `invalid interpolation "\${${body}}"` };
      const [, name, op, rest] = m as unknown as [string, string, string | undefined, string | undefined];
      const value = vars[name];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      let result: string;
      if (!op) {
        if (!set) return { error: `variable ${name} is not set` };
        result = value;
      } else {
        const colon = op.startsWith(':');
        const kind = op[op.length - 1];
        const present = colon ? nonEmpty : set;
        const nested = (): string | { error: string } => {
          const r = interpolate(rest ?? '', vars);
          return 'error' in r ? r : r.value;
        };
        if (kind === '-') {
          if (present) result = value as string;
          else {
            const r = nested();
            if (typeof r !== 'string') return r;
            result = r;
          }
        } else if (kind === '?') {
          if (!present) return { error: `variable ${name} is required: ${rest || 'not set'}` };
          result = value as string;
        } else {
          if (present) {
            const r = nested();
            if (typeof r !== 'string') return r;
            result = r;
          } else result = '';
        }
      }
      spans.push({ start: out.length, end: out.length + result.length, variable: name });
      out += result;
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i + 1));
    if (m) {
      const name = m[0];
      const value = vars[name];
      if (value === undefined) return { error: `variable ${name} is not set (write $$ for a literal $)` };
      spans.push({ start: out.length, end: out.length + value.length, variable: name });
      out += value;
      i += 1 + name.length;
      continue;
    }
    out += '$';
    i++;
  }
  return { value: out, spans };
}

// ---------------------------------------------------------------------------------------------------------------
// Small parsers

/** Go-style duration ("1m30s", "500ms", "10s") → nanoseconds. */
export function parseDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const t = s.trim();
  if (!t) return undefined;
  if (/^\d+$/.test(t)) return undefined; // compose requires a unit
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t))) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    pos = re.lastIndex;
  }
  if (pos !== t.length) return undefined;
  return Math.round(total);
}

/** "512m", "1g", "256mb", "1024" → bytes (binary units, as Compose). */
export function parseByteSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(v.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * (mult[(m[2] as string).toLowerCase()] as number));
}

/** Split a command string as Compose does (shell words, quotes, backslash escapes; no shell is run). */
export function shellSplit(s: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1] as string)) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) out.push(cur);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The parser over the YAML AST (so every error has a line and column)

type Loc = { line?: number; col?: number };

class Parser {
  private readonly lc = new LineCounter();
  private readonly dir: string;
  private doc!: Document.Parsed;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly options: LoadOptions,
  ) {
    this.dir = path.dirname(file);
  }

  parse(): ComposeModel {
    this.doc = parseDocument(this.text, { lineCounter: this.lc, uniqueKeys: true, prettyErrors: false });
    const first = this.doc.errors[0];
    if (first) {
      const pos = first.linePos?.[0] ?? this.lc.linePos(first.pos[0]);
      const msg = first.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'syntax error';
      throw new InvalidComposeError(this.file, `YAML error: ${msg}`, pos.line, pos.col);
    }
    const root = this.doc.contents as YamlNode | null;
    if (!root || !isMap(root)) this.fail(root, '', 'the file must be a mapping with a "services" key');

    const top = this.entries(root, '');
    let name: string | undefined;
    let servicesNode: YamlNode | undefined;
    let volumesNode: YamlNode | undefined;
    for (const { key, value, keyNode } of top) {
      if (key.startsWith('x-')) continue; // extension fields carry no configuration (Compose ignores them)
      if (key === 'name') name = this.str(value, 'name').value;
      else if (key === 'services') servicesNode = value;
      else if (key === 'volumes') volumesNode = value;
      else this.unsupported(keyNode, key, TOP_LEVEL_KEYS);
    }
    name = this.options.projectName ?? name ?? path.basename(this.dir).toLowerCase().replace(/[^a-z0-9_-]/g, '');
    if (!PROJECT_NAME.test(name)) {
      this.fail(root, 'name', `project name "${name}" must be lowercase letters, digits, "-" or "_"`);
    }

    const volumes: string[] = [];
    if (volumesNode && !this.isNull(volumesNode)) {
      for (const { key, value } of this.entries(volumesNode, 'volumes')) {
        if (!this.isNull(value) && !(isMap(value) && value.items.length === 0)) {
          this.fail(value, `volumes.${key}`, 'volume options are not supported: declare the volume with no keys');
        }
        volumes.push(key);
      }
    }

    if (!servicesNode || this.isNull(servicesNode)) this.fail(root, 'services', 'no services defined');
    const services: ServiceModel[] = [];
    for (const { key, value, keyNode } of this.entries(servicesNode, 'services')) {
      if (!SERVICE_NAME.test(key)) this.fail(keyNode, `services.${key}`, `invalid service name "${key}"`);
      services.push(this.service(key, value, volumes));
    }
    if (services.length === 0) this.fail(servicesNode, 'services', 'no services defined');

    // depends_on must name services and have no cycle
    const names = new Set(services.map((s) => s.name));
    for (const s of services) {
      for (const d of s.dependsOn) {
        if (!names.has(d.service)) {
          this.fail(servicesNode, `services.${s.name}.depends_on`, `depends on unknown service "${d.service}"`);
        }
      }
    }
    try {
      startOrder(services);
    } catch (err) {
      this.fail(servicesNode, 'services', (err as Error).message);
    }
    return { name, file: this.file, dir: this.dir, services, volumes };
  }

  private service(name: string, node: YamlNode, declaredVolumes: string[]): ServiceModel {
    const p = `services.${name}`;
    const svc: ServiceModel = {
      name,
      image: '',
      imageVariables: [],
      environment: {},
      ports: [],
      volumes: [],
      dependsOn: [],
    };
    let hasImage = false;
    for (const { key, value, keyNode } of this.entries(node, p)) {
      const kp = `${p}.${key}`;
      switch (key) {
        case 'image': {
          const r = this.str(value, kp);
          if (!r.value.trim()) this.fail(value, kp, 'image is empty');
          svc.image = r.value.trim();
          svc.imageVariables = [...new Set(r.spans.map((s) => s.variable))];
          hasImage = true;
          break;
        }
        case 'command':
          svc.command = this.command(value, kp);
          break;
        case 'environment':
          svc.environment = this.environment(value, kp);
          break;
        case 'ports':
          svc.ports = this.seq(value, kp).map((item, i) => this.port(item, `${kp}[${i}]`));
          break;
        case 'volumes':
          svc.volumes = this.seq(value, kp).map((item, i) => this.volume(item, `${kp}[${i}]`, declaredVolumes));
          break;
        case 'healthcheck':
          svc.healthcheck = this.healthcheck(value, kp);
          break;
        case 'restart':
          svc.restart = this.restart(value, kp);
          break;
        case 'mem_limit': {
          const raw = isScalar(value) && typeof value.value === 'number' ? value.value : this.str(value, kp).value;
          const bytes = parseByteSize(raw);
          if (bytes === undefined) this.fail(value, kp, `"${String(raw)}" is not a size (e.g. 512m, 1g)`);
          svc.memLimit = bytes;
          break;
        }
        case 'depends_on':
          svc.dependsOn = this.dependsOn(value, kp);
          break;
        case 'user':
          svc.user = this.scalarString(value, kp);
          break;
        default:
          if (key.startsWith('x-')) break;
          this.unsupported(keyNode, kp, SERVICE_KEYS);
      }
    }
    if (!hasImage) this.fail(node, p, 'service has no "image"');
    const targets = new Set<string>();
    for (const v of svc.volumes) {
      if (targets.has(v.target)) this.fail(node, `${p}.volumes`, `two mounts on ${v.target}`);
      targets.add(v.target);
    }
    return svc;
  }

  private command(node: YamlNode, kp: string): string[] {
    if (isSeq(this.deref(node))) return this.seq(node, kp).map((n, i) => this.scalarString(n, `${kp}[${i}]`));
    const s = this.str(node, kp).value;
    const words = shellSplit(s);
    if (!words) this.fail(node, kp, `unbalanced quotes in "${s}"`);
    return words;
  }

  private environment(node: YamlNode, kp: string): Record<string, string> {
    const env: Record<string, string> = {};
    const n = this.deref(node);
    if (isSeq(n)) {
      this.seq(n, kp).forEach((item, i) => {
        const s = this.str(item, `${kp}[${i}]`).value;
        const eq = s.indexOf('=');
        if (eq === -1) {
          const v = this.options.variables[s];
          if (v !== undefined) env[s] = v;
        } else env[s.slice(0, eq)] = s.slice(eq + 1);
      });
      return env;
    }
    for (const { key, value } of this.entries(n, kp)) {
      if (this.isNull(value)) {
        const v = this.options.variables[key];
        if (v !== undefined) env[key] = v;
      } else env[key] = this.scalarString(value, `${kp}.${key}`);
    }
    return env;
  }

  private port(node: YamlNode, kp: string): PortMapping {
    const n = this.deref(node);
    if (isMap(n)) this.fail(n, kp, 'long port syntax is not supported: use "127.0.0.1:${VAR:-port}:port"');
    let text: string;
    let spans: Interpolated['spans'] = [];
    if (isScalar(n) && typeof n.value === 'number') text = String(n.value);
    else ({ value: text, spans } = this.str(n, kp));
    let proto: 'tcp' | 'udp' = 'tcp';
    let body = text;
    const slash = text.lastIndexOf('/');
    if (slash !== -1) {
      const p = text.slice(slash + 1);
      if (p !== 'tcp' && p !== 'udp') this.fail(n, kp, `unsupported protocol "${p}"`);
      proto = p;
      body = text.slice(0, slash);
    }
    const parts = body.split(':');
    if (parts.length < 2 || parts.length > 3) {
      this.fail(n, kp, `"${text}" must be "host_ip:host_port:container_port" (a fixed host port is required)`);
    }
    const hostIp = parts.length === 3 ? (parts[0] as string) : '127.0.0.1';
    const hostPortText = parts[parts.length - 2] as string;
    const containerText = parts[parts.length - 1] as string;
    const hostStart = parts.length === 3 ? (parts[0] as string).length + 1 : 0;
    const hostEnd = hostStart + hostPortText.length;
    const hostPort = Number(hostPortText);
    const containerPort = Number(containerText);
    const valid = (x: number): boolean => Number.isInteger(x) && x > 0 && x < 65536;
    if (!/^\d+$/.test(hostPortText) || !valid(hostPort)) {
      this.fail(n, kp, `host port "${hostPortText}" in "${text}" is not a port number (1-65535)`);
    }
    if (!/^\d+$/.test(containerText) || !valid(containerPort)) {
      this.fail(n, kp, `container port "${containerText}" in "${text}" is not a port number (1-65535)`);
    }
    if (!/^[0-9.]+$|^\[?[0-9a-fA-F:]+\]?$/.test(hostIp)) this.fail(n, kp, `host IP "${hostIp}" is not an address`);
    const variable = spans.find((s) => s.start < hostEnd && s.end > hostStart)?.variable;
    const m: PortMapping = { hostIp: hostIp.replace(/^\[|\]$/g, ''), hostPort, containerPort, protocol: proto };
    if (variable) m.variable = variable;
    return m;
  }

  private volume(node: YamlNode, kp: string, declared: string[]): VolumeMount {
    const n = this.deref(node);
    let type: 'volume' | 'bind' | undefined;
    let source: string;
    let target: string;
    let readOnly = false;
    if (isMap(n)) {
      let s: string | undefined;
      let t: string | undefined;
      for (const { key, value, keyNode } of this.entries(n, kp)) {
        if (key === 'type') {
          const v = this.str(value, `${kp}.type`).value;
          if (v !== 'volume' && v !== 'bind') this.fail(value, `${kp}.type`, `volume type "${v}" is not supported`);
          type = v;
        } else if (key === 'source') s = this.str(value, `${kp}.source`).value;
        else if (key === 'target') t = this.str(value, `${kp}.target`).value;
        else if (key === 'read_only') readOnly = this.bool(value, `${kp}.read_only`);
        else this.unsupported(keyNode, `${kp}.${key}`, LONG_VOLUME_KEYS);
      }
      if (!s || !t) this.fail(n, kp, 'a volume needs "source" and "target"');
      source = s;
      target = t;
    } else {
      const s = this.str(n, kp).value;
      // source:target[:mode]; a Windows drive letter in the source ("C:\...") is not split
      const m = /^((?:[A-Za-z]:[\\/])?[^:]*):([^:]+)(?::([^:]+))?$/.exec(s);
      if (!m) this.fail(n, kp, `"${s}" must be "volume:/path", or "./file:/path:ro" (anonymous volumes are not supported)`);
      source = m[1] as string;
      target = m[2] as string;
      const mode = m[3];
      if (mode !== undefined) {
        const modes = mode.split(',');
        for (const md of modes) {
          if (md !== 'ro' && md !== 'rw') this.fail(n, kp, `volume mode "${md}" is not supported (use ro or rw)`);
        }
        readOnly = modes.includes('ro');
      }
    }
    if (!target.startsWith('/')) this.fail(n, kp, `mount target "${target}" must be an absolute path`);
    const looksLikePath = /^(\.{1,2}([\\/]|$)|[\\/~]|[A-Za-z]:[\\/])/.test(source);
    if (type === undefined) type = looksLikePath ? 'bind' : 'volume';
    if (type === 'volume') {
      if (!declared.includes(source)) {
        this.fail(n, kp, `named volume "${source}" is not declared under the top-level "volumes"`);
      }
      return { type, source, target, readOnly };
    }
    if (source.startsWith('~')) this.fail(n, kp, `bind source "${source}" must be relative to ${this.dir}`);
    const abs = path.resolve(this.dir, source);
    const rel = path.relative(this.dir, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      this.fail(n, kp, `bind source "${source}" must be a file under ${this.dir}`);
    }
    return { type: 'bind', source: abs, target, readOnly };
  }

  private healthcheck(node: YamlNode, kp: string): Healthcheck {
    const hc: Healthcheck = { test: [] };
    let hasTest = false;
    for (const { key, value, keyNode } of this.entries(node, kp)) {
      const p = `${kp}.${key}`;
      if (key === 'test') {
        hasTest = true;
        const v = this.deref(value);
        if (isSeq(v)) {
          hc.test = this.seq(v, p).map((x, i) => this.scalarString(x, `${p}[${i}]`));
          const head = hc.test[0];
          if (head !== 'CMD' && head !== 'CMD-SHELL' && head !== 'NONE') {
            this.fail(v, p, 'a test list must start with "CMD", "CMD-SHELL" or "NONE"');
          }
        } else {
          const s = this.str(v, p).value;
          hc.test = s === 'NONE' ? ['NONE'] : ['CMD-SHELL', s];
        }
      } else if (key === 'interval' || key === 'timeout' || key === 'start_period') {
        const s = this.str(value, p).value;
        const ns = parseDuration(s);
        if (ns === undefined) this.fail(value, p, `"${s}" is not a duration (e.g. 10s, 1m30s)`);
        if (key === 'interval') hc.intervalNs = ns;
        else if (key === 'timeout') hc.timeoutNs = ns;
        else hc.startPeriodNs = ns;
      } else if (key === 'retries') {
        const v = this.deref(value);
        const raw = isScalar(v) && typeof v.value === 'number' ? v.value : Number(this.str(v, p).value);
        if (!Number.isInteger(raw) || raw < 0) this.fail(v, p, 'retries must be a whole number');
        hc.retries = raw;
      } else this.unsupported(keyNode, p, HEALTHCHECK_KEYS);
    }
    if (!hasTest) this.fail(node, kp, 'a healthcheck needs a "test"');
    return hc;
  }

  private restart(node: YamlNode, kp: string): RestartPolicy {
    const v = this.deref(node);
    const s = isScalar(v) && v.value === false ? 'no' : this.str(v, kp).value;
    if (s === 'no' || s === 'always' || s === 'unless-stopped' || s === 'on-failure') return { name: s };
    const m = /^on-failure:(\d+)$/.exec(s);
    if (m) return { name: 'on-failure', maximumRetryCount: Number(m[1]) };
    this.fail(v, kp, `restart "${s}" is not one of no, always, on-failure[:N], unless-stopped`);
  }

  private dependsOn(node: YamlNode, kp: string): Dependency[] {
    const n = this.deref(node);
    if (isSeq(n)) {
      return this.seq(n, kp).map((x, i) => ({
        service: this.str(x, `${kp}[${i}]`).value,
        condition: 'service_started' as const,
      }));
    }
    return this.entries(n, kp).map(({ key, value }) => {
      let condition: DependencyCondition = 'service_started';
      if (!this.isNull(value)) {
        for (const e of this.entries(value, `${kp}.${key}`)) {
          if (e.key !== 'condition') this.unsupported(e.keyNode, `${kp}.${key}.${e.key}`, DEPENDS_ON_KEYS);
          const c = this.str(e.value, `${kp}.${key}.condition`).value;
          if (c !== 'service_started' && c !== 'service_healthy' && c !== 'service_completed_successfully') {
            this.fail(e.value, `${kp}.${key}.condition`, `unknown condition "${c}"`);
          }
          condition = c;
        }
      }
      return { service: key, condition };
    });
  }

  // --- AST helpers ---

  private deref(node: YamlNode | null | undefined): YamlNode {
    let n = node as YamlNode;
    for (let i = 0; i < 20 && n && isAlias(n); i++) n = n.resolve(this.doc) as YamlNode;
    return n;
  }

  private isNull(node: YamlNode | null | undefined): boolean {
    const n = this.deref(node);
    return !n || (isScalar(n) && n.value === null);
  }

  private loc(node: YamlNode | null | undefined): Loc {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (!range) return {};
    return this.lc.linePos(range[0]);
  }

  private fail(node: YamlNode | null | undefined, keyPath: string, problem: string): never {
    const { line, col } = this.loc(node);
    const where = keyPath ? `${keyPath}: ` : '';
    throw new InvalidComposeError(this.file, `${where}${problem}`, line, col, keyPath || undefined);
  }

  private unsupported(keyNode: YamlNode, keyPath: string, allowed: readonly string[]): never {
    this.fail(
      keyNode,
      keyPath,
      `the key "${keyPath.split('.').pop()}" is not one the extension maps onto the Engine API ` +
        `(allowed here: ${allowed.join(', ')})`,
    );
  }

  private entries(node: YamlNode | null | undefined, kp: string): { key: string; value: YamlNode; keyNode: YamlNode }[] {
    const n = this.deref(node);
    if (!isMap(n)) this.fail(n, kp, 'must be a mapping');
    return n.items.map((pair) => {
      const keyNode = pair.key as YamlNode;
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        this.fail(keyNode ?? n, kp, 'keys must be plain strings');
      }
      const key = String(keyNode.value);
      if (key === '<<') this.fail(keyNode, `${kp ? `${kp}.` : ''}<<`, 'YAML merge keys are not supported');
      return { key, value: pair.value as YamlNode, keyNode };
    });
  }

  private seq(node: YamlNode | null | undefined, kp: string): YamlNode[] {
    const n = this.deref(node);
    if (!isSeq(n)) this.fail(n, kp, 'must be a list');
    return n.items as YamlNode[];
  }

  private str(node: YamlNode | null | undefined, kp: string): Interpolated {
    const n = this.deref(node);
    if (!isScalar(n) || typeof n.value !== 'string') this.fail(n, kp, 'must be a string');
    const r = interpolate(n.value, this.options.variables);
    if ('error' in r) this.fail(n, kp, r.error);
    return r;
  }

  /** A string, number or boolean scalar as a string (strings are interpolated). */
  private scalarString(node: YamlNode | null | undefined, kp: string): string {
    const n = this.deref(node);
    if (isScalar(n) && (typeof n.value === 'number' || typeof n.value === 'boolean')) return String(n.value);
    return this.str(n, kp).value;
  }

  private bool(node: YamlNode | null | undefined, kp: string): boolean {
    const n = this.deref(node);
    if (isScalar(n) && typeof n.value === 'boolean') return n.value;
    const s = this.str(n, kp).value;
    if (s === 'true') return true;
    if (s === 'false') return false;
    this.fail(n, kp, 'must be true or false');
  }
}

/** Services in an order where each comes after those it depends on (file order otherwise). */
export function startOrder<T extends { name: string; dependsOn: Dependency[] }>(services: readonly T[]): T[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: T, chain: string[]): void => {
    const st = state.get(s.name);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`depends_on has a cycle: ${[...chain, s.name].join(' → ')}`);
    state.set(s.name, 'visiting');
    for (const d of s.dependsOn) {
      const dep = byName.get(d.service);
      if (dep) visit(dep, [...chain, s.name]);
    }
    state.set(s.name, 'done');
    out.push(s);
  };
  for (const s of services) visit(s, []);
  return out;
}
