// Whether a host port is free: bind it for a moment. Published ports are DNAT
// rules, not listeners, so this only sees other programs; the engine keeps
// track of its own mappings.
import dgram from 'node:dgram';
import net from 'node:net';

export type PortProbe = (port: number, protocol: string, hostIP?: string) => Promise<boolean>;

export const portFree: PortProbe = (port, protocol, hostIP) =>
  new Promise((resolve) => {
    const host = hostIP || '0.0.0.0';
    if (protocol === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(false);
      });
      s.bind(port, host, () => s.close(() => resolve(true)));
      return;
    }
    if (protocol !== 'tcp') return resolve(true);
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
