// A minimal protobuf decoder for the OTLP logs export requests the Loki double receives (the real collector's
// otlp_http exporter sends protobuf), and the encoder of the google.rpc.Status it answers errors with, without a
// protobuf dependency. It produces the same object shapes as the OTLP/JSON mapping
// (64-bit integers as decimal strings, ids as hex), so the rest of the double handles both encodings alike.
// Field numbers: opentelemetry-proto v1 (common, resource, metrics, logs, collector/*/v1).
import type { AnyValue, KeyValue, LogRecord, LogsRequest, Resource, Scope } from './common';

type Field =
  | { no: number; wt: 0; v: bigint }
  | { no: number; wt: 1; v: Buffer }
  | { no: number; wt: 2; v: Buffer }
  | { no: number; wt: 5; v: Buffer };

export class ProtoError extends Error {}

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ProtoError('truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtoError('varint too long');
    }
  };
  const take = (n: number): Buffer => {
    if (pos + n > buf.length) throw new ProtoError('truncated field');
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wt = key & 7;
    switch (wt) {
      case 0:
        yield { no, wt, v: varint() };
        break;
      case 1:
        yield { no, wt, v: take(8) };
        break;
      case 2:
        yield { no, wt, v: take(Number(varint())) };
        break;
      case 5:
        yield { no, wt, v: take(4) };
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wt}`);
    }
  }
}

const str = (f: Field): string => (f.wt === 2 ? f.v.toString('utf8') : '');
const fixed64 = (f: Field): string =>
  f.wt === 1 ? f.v.readBigUInt64LE(0).toString() : f.wt === 0 ? f.v.toString() : '0';
const double = (f: Field): number => (f.wt === 1 ? f.v.readDoubleLE(0) : 0);
const int64 = (f: Field): string => (f.wt === 0 ? BigInt.asIntN(64, f.v).toString() : '0');
const uint = (f: Field): number => (f.wt === 0 ? Number(f.v) : f.wt === 5 ? f.v.readUInt32LE(0) : 0);
const msg = (f: Field): Buffer => (f.wt === 2 ? f.v : Buffer.alloc(0));

function anyValue(buf: Buffer): AnyValue {
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        return { stringValue: str(f) };
      case 2:
        return { boolValue: f.wt === 0 && f.v !== 0n };
      case 3:
        return { intValue: int64(f) };
      case 4:
        return { doubleValue: double(f) };
      case 5:
        return { arrayValue: { values: [...fields(msg(f))].filter((x) => x.no === 1).map((x) => anyValue(msg(x))) } };
      case 6:
        return { kvlistValue: { values: [...fields(msg(f))].filter((x) => x.no === 1).map((x) => keyValue(msg(x))) } };
      case 7:
        return { bytesValue: msg(f).toString('base64') };
    }
  }
  return {};
}

function keyValue(buf: Buffer): KeyValue {
  const kv: KeyValue = { key: '' };
  for (const f of fields(buf)) {
    if (f.no === 1) kv.key = str(f);
    else if (f.no === 2) kv.value = anyValue(msg(f));
  }
  return kv;
}

function resource(buf: Buffer): Resource {
  const attributes: KeyValue[] = [];
  for (const f of fields(buf)) if (f.no === 1) attributes.push(keyValue(msg(f)));
  return { attributes };
}

function scope(buf: Buffer): Scope {
  const s: Scope = { attributes: [] };
  for (const f of fields(buf)) {
    if (f.no === 1) s.name = str(f);
    else if (f.no === 2) s.version = str(f);
    else if (f.no === 3) s.attributes!.push(keyValue(msg(f)));
  }
  return s;
}

function logRecord(buf: Buffer): LogRecord {
  const r: LogRecord = { attributes: [] };
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        r.timeUnixNano = fixed64(f);
        break;
      case 11:
        r.observedTimeUnixNano = fixed64(f);
        break;
      case 2:
        r.severityNumber = uint(f);
        break;
      case 3:
        r.severityText = str(f);
        break;
      case 5:
        r.body = anyValue(msg(f));
        break;
      case 6:
        r.attributes!.push(keyValue(msg(f)));
        break;
      case 8:
        r.flags = uint(f);
        break;
      case 9:
        r.traceId = msg(f).toString('hex');
        break;
      case 10:
        r.spanId = msg(f).toString('hex');
        break;
      case 12:
        r.eventName = str(f);
        break;
    }
  }
  return r;
}

export function decodeLogsRequest(buf: Buffer): LogsRequest {
  const resourceLogs: NonNullable<LogsRequest['resourceLogs']> = [];
  for (const f of fields(buf)) {
    if (f.no !== 1) continue;
    const rl: (typeof resourceLogs)[number] = { scopeLogs: [] };
    for (const g of fields(msg(f))) {
      if (g.no === 1) rl.resource = resource(msg(g));
      else if (g.no === 2) {
        const sl: NonNullable<typeof rl.scopeLogs>[number] = { logRecords: [] };
        for (const h of fields(msg(g))) {
          if (h.no === 1) sl.scope = scope(msg(h));
          else if (h.no === 2) sl.logRecords!.push(logRecord(msg(h)));
        }
        rl.scopeLogs!.push(sl);
      }
    }
    resourceLogs.push(rl);
  }
  return { resourceLogs };
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

/** A google.rpc.Status with code 0 (left out, as proto3 does) and `message` (field 2): the body of every OTLP error
 * Loki answers. */
export function encodeRpcStatus(message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  return text.length ? Buffer.concat([Buffer.from([0x12]), varint(text.length), text]) : Buffer.alloc(0);
}
