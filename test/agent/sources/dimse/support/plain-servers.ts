import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/**
 * Servers that are not PACS, for the failures a PACS address can show: a port that accepts TCP
 * and never says a word, a TLS-only port, and a port whose accept queue is full (connect hangs).
 * All bind 127.0.0.1 on a port the OS picks, count their connections, and close everything on stop.
 */
export interface TestServer {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Connections open now. */
  open: number;
  stop(): Promise<void>;
}

function track(server: Server): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const info: TestServer = {
    port: 0, connections: 0, open: 0,
    stop: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  server.on('connection', (socket: Socket) => {
    info.connections += 1;
    sockets.add(socket);
    info.open = sockets.size;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      info.open = sockets.size;
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      info.port = (server.address() as { port: number }).port;
      resolve(info);
    });
  });
}

/** Accepts TCP, reads everything, answers nothing, never closes. */
export function startSilentServer(): Promise<TestServer> {
  return track(createServer((socket) => socket.on('data', () => undefined)));
}

/** Hangs up on every connection at once, before a word: a refusing proxy, an IP allow list. */
export function startHangUpServer(): Promise<TestServer> {
  return track(createServer((socket) => socket.destroy()));
}

/** Speaks another protocol: answers the first bytes it gets with an HTTP error, then closes. */
export function startHttpLikeServer(): Promise<TestServer> {
  return track(createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'))));
}

/** Speaks TLS only (its certificate from `certs`); after the handshake it answers nothing. */
export function startTlsOnlyServer(certs: { serverCert: Buffer; serverKey: Buffer }): Promise<TestServer> {
  const server = createTlsServer({ cert: certs.serverCert, key: certs.serverKey }, (socket) => socket.on('data', () => undefined));
  server.on('tlsClientError', () => undefined);
  return track(server);
}

/**
 * A listening port whose accept queue is full, so a new connect's SYN is dropped and the
 * connect hangs — what a firewall that drops packets looks like. Node accepts every connection
 * itself, so the listener is a Python socket with backlog 0 that never accepts, filled by one
 * connection of ours.
 */
export async function startUnacceptingPort(): Promise<TestServer> {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const script = [
    'import socket, sys',
    's = socket.socket()',
    "s.bind(('127.0.0.1', 0))",
    's.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child: ChildProcess = spawn(python, ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  const filler = connect(port, '127.0.0.1');
  filler.on('error', () => undefined);
  await new Promise((resolve) => filler.once('connect', resolve));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    port, connections: 0, open: 0,
    stop: async () => {
      filler.destroy();
      child.stdin!.end();
      await exited;
    },
  };
}
