import type { AddressInfo, Server, Socket } from 'node:net';

/** A test server listening on a free loopback port. */
export interface Listening {
  port: number;
  /** Destroys open (kept-alive) connections first, so closing never waits for a client. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, an ephemeral port, tracking sockets (TLS servers: 'secureConnection'). */
export async function listenOnLoopback(server: Server, connectionEvent: 'connection' | 'secureConnection' = 'connection'): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on(connectionEvent, (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
