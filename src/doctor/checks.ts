// The pipeline doctor's results and inputs, shared by the run (pipelineDoctor.ts), every check and the report.
// Types only: this module imports nothing of them.
import type { ServiceStatus } from '../stack/stackState';

// --- results -----------------------------------------------------------------------------------------------------

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export type CheckId =
  | 'docker'
  | `container:${string}`
  | 'collector-otlp'
  | 'prometheus-ready'
  | 'prometheus-scrape'
  | 'collector-telemetry'
  | 'recording-rules'
  | 'loki-ready'
  | 'loki-otlp'
  | 'roundtrip-metric'
  | 'roundtrip-event'
  | 'terminal-env'
  | 'claude-settings'
  | 'gateway-token'
  | 'gateway-roundtrip';

export interface Hop {
  name: string;
  /** Milliseconds from the probe's send to this hop. */
  ms: number;
}

export interface CheckResult {
  id: CheckId;
  name: string;
  status: CheckStatus;
  /** How long the check took. */
  ms: number;
  /** What was seen. */
  detail: string;
  /** The likely cause (on warn and fail). */
  cause?: string;
  /** What to do about it (on warn and fail). */
  fix?: string;
  /** Round trip: the milliseconds at each hop. */
  hops?: Hop[];
}

export interface DoctorResult {
  runId: string;
  startedAt: string;
  ms: number;
  endpoints: DoctorEndpoints;
  checks: CheckResult[];
  counts: Record<CheckStatus, number>;
  /** One line: "All 12 checks passed", "2 problems: ...". */
  summary: string;
  /** Extra remarks shown above the table (e.g. a team backend is configured). */
  notes: string[];
}

// --- inputs ------------------------------------------------------------------------------------------------------

/** What the doctor needs of the stack engine (`StackEngine` satisfies it). */
export interface DoctorEngine {
  ping(): Promise<void>;
  status(): Promise<ServiceStatus[]>;
  lastLogLines?(service: string, tail?: number): Promise<string[]>;
}

export interface DoctorEndpoints {
  /** OTLP/HTTP base address of the collector, e.g. http://127.0.0.1:4318. */
  otlpHttp: string;
  /** The host port of the collector's OTLP/gRPC receiver (the environment checks accept it with protocol grpc). */
  otlpGrpcPort: number;
  /** Prometheus base URL, e.g. http://127.0.0.1:9090. */
  prometheus: string;
  /** Loki base URL, e.g. http://127.0.0.1:3100. */
  loki: string;
}

export interface TerminalInput {
  /** The terminal's name, for the report. */
  name: string;
  /** Its process environment as the editor knows it. */
  env: Readonly<Record<string, string | undefined>>;
}
