// The embedded resolver of a user-defined network: UDP and TCP on the
// network's gateway address (the IPv4 one; the IPv6 one on an IPv6-only
// network), port 53. Names of containers on the network
// (name, aliases, short id) get A records, and AAAA records on dual-stack
// networks; anything else goes to the host's
// resolvers (or the container's --dns ones) and comes back as they answer.
import dgram from 'node:dgram';
import net from 'node:net';
import { log } from '../../util/log.ts';
import { RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, buildAnswer, parseQuery } from './dns-packet.ts';

export interface DnsResolver {
  /** Addresses of one family (4: A, 6: AAAA) for a name, as the client (by
   * its address) sees it; undefined when the name is not ours. */
  lookup(name: string, client: string, family: 4 | 6): string[] | undefined;
  /** Upstream servers for a client (by its address). */
  upstreams(client: string): string[];
}

export class DnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;

  constructor(readonly address: string, private readonly resolver: DnsResolver, private readonly port = 53) {}

  async start(): Promise<void> {
    // An IPv6-only network's resolver listens on its IPv6 gateway.
    const udp = dgram.createSocket({ type: this.address.includes(':') ? 'udp6' : 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => {
      // The server may have closed (network removed) while an upstream answered late.
      void this.answer(msg, rinfo.address)
        .then((reply) => reply && this.udp === udp && udp.send(reply, rinfo.port, rinfo.address))
        .catch((e: unknown) => log.debug('dns reply not sent', { address: this.address, err: e }));
    });
    udp.on('error', (e) => log.warn('dns server error', { address: this.address, err: e }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, this.address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.udp = udp;
    const tcp = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => undefined);
      sock.setTimeout(10_000, () => sock.destroy());
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          void this.answer(msg, sock.remoteAddress ?? '').then((reply) => {
            if (!reply || sock.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(reply.length);
            sock.write(Buffer.concat([len, reply]));
          });
        }
      });
    });
    await new Promise<void>((resolve) => {
      tcp.once('error', (e) => {
        log.warn('dns server: no TCP listener', { address: this.address, err: e });
        resolve();
      });
      tcp.listen(this.port, this.address, () => {
        this.tcp = tcp;
        resolve();
      });
    });
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
    this.udp = undefined;
    this.tcp = undefined;
  }

  private async answer(msg: Buffer, client: string): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const from = client.replace(/^::ffff:/, '');
    const family = q.type === TYPE_AAAA ? 6 : 4;
    const addrs = this.resolver.lookup(name, from, family);
    // Other types for our names: an empty answer, as for a name without an address of that family.
    if (addrs) return buildAnswer(msg, q, q.type === TYPE_A || q.type === TYPE_AAAA ? addrs : []);
    const ups = this.resolver.upstreams(from);
    if (!ups.length) return buildAnswer(msg, q, [], { rcode: RCODE_NXDOMAIN });
    for (const up of ups) {
      const reply = await forward(msg, up).catch(() => undefined);
      if (reply) return reply;
    }
    return buildAnswer(msg, q, [], { rcode: RCODE_SERVFAIL });
  }
}

function forward(msg: Buffer, server: string, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(server.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('timeout'));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    s.on('message', (reply) => {
      if (reply.length < 2 || reply.readUInt16BE(0) !== msg.readUInt16BE(0)) return;
      clearTimeout(t);
      s.close();
      resolve(reply);
    });
    s.send(msg, 53, server);
  });
}
