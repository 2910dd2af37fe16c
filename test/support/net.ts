import net from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1 (for the suites' own Neo4j processes). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
