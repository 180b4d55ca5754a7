// Just enough of RFC 1035 for the embedded resolver: read the question of a
// query, write an answer with A or AAAA records (or none), or an error code.
import { formatIp6, parseIp6 } from './ipnet.ts';

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export interface DnsQuestion {
  id: number;
  flags: number;
  name: string;
  type: number;
  klass: number;
  /** Offset just past the question: what an answer copies from the query. */
  end: number;
}

/** The first question of a query, or undefined for a packet that is not one. */
export function parseQuery(buf: Buffer): DnsQuestion | undefined {
  if (buf.length < 12) return undefined;
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response
  if (buf.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= buf.length) return undefined;
    const len = buf[off]!;
    off++;
    if (len === 0) break;
    if (len > 63 || off + len > buf.length) return undefined; // no compression in a question
    labels.push(buf.toString('latin1', off, off + len));
    off += len;
  }
  if (off + 4 > buf.length) return undefined;
  return { id, flags, name: labels.join('.'), type: buf.readUInt16BE(off), klass: buf.readUInt16BE(off + 2), end: off + 4 };
}

/** A response to `query`: its question echoed, then one record per address:
 * A for an IPv4 one, AAAA for an IPv6 one. */
export function buildAnswer(query: Buffer, q: DnsQuestion, addrs: string[], opts: { rcode?: number; ttl?: number } = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, RA (we recurse by forwarding), the rcode.
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0080 | (opts.rcode ?? 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addrs.length, 6);
  const answers = addrs.map((a) => {
    const v6 = a.includes(':');
    const rr = Buffer.alloc(v6 ? 28 : 16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(v6 ? TYPE_AAAA : TYPE_A, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(opts.ttl ?? 600, 6);
    rr.writeUInt16BE(v6 ? 16 : 4, 10);
    if (v6) {
      const n = parseIp6(a);
      for (let i = 0; i < 16; i++) rr.writeUInt8(Number((n >> BigInt(8 * (15 - i))) & 0xffn), 12 + i);
    } else {
      a.split('.').forEach((p, i) => rr.writeUInt8(Number(p), 12 + i));
    }
    return rr;
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...answers]);
}

/** A query for `name` (tests and forwarding checks). */
export function buildQuery(id: number, name: string, type = TYPE_A): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([header, ...parts, tail]);
}

/** The rcode and A/AAAA records of a response (tests). */
export function parseAnswer(buf: Buffer): { id: number; rcode: number; addrs: string[] } {
  const id = buf.readUInt16BE(0);
  const rcode = buf.readUInt16BE(2) & 0xf;
  const an = buf.readUInt16BE(6);
  let off = 12;
  const skipName = (): void => {
    for (;;) {
      const len = buf[off]!;
      if ((len & 0xc0) === 0xc0) {
        off += 2;
        return;
      }
      off += 1 + len;
      if (len === 0) return;
    }
  };
  for (let i = 0; i < buf.readUInt16BE(4); i++) {
    skipName();
    off += 4;
  }
  const addrs: string[] = [];
  for (let i = 0; i < an; i++) {
    skipName();
    const type = buf.readUInt16BE(off);
    const rdlen = buf.readUInt16BE(off + 8);
    off += 10;
    if (type === TYPE_A && rdlen === 4) addrs.push([...buf.subarray(off, off + 4)].join('.'));
    if (type === TYPE_AAAA && rdlen === 16) addrs.push(formatIp6([...buf.subarray(off, off + 16)].reduce((acc, b) => (acc << 8n) | BigInt(b), 0n)));
    off += rdlen;
  }
  return { id, rcode, addrs };
}
