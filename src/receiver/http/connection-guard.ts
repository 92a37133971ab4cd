import { BlockList, isIP, type Socket } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface ConnectionGuardSettings {
  /** Connections one client address may hold open at once; 0: no per-address cap. */
  perAddress: number;
  /** A connection that has sent no byte within this is closed (ms; 0: off). */
  firstByteMs: number;
  /** Reverse proxies (addresses or CIDRs, RECEIVER_TRUST_PROXY): every client arrives from them, so no per-address cap. */
  exempt: readonly string[];
}

function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = '', bits] = entry.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  return list;
}

function isExempt(list: BlockList, addr: string): boolean {
  const family = isIP(addr);
  if (family === 0) return false;
  return list.check(addr, family === 6 ? 'ipv6' : 'ipv4') || (addr.startsWith('::ffff:') && list.check(addr.slice(7), 'ipv4'));
}

/**
 * Whose connections count together against the per-address cap: an IPv4 address as it is (also
 * when it arrives IPv4-mapped, `::ffff:192.0.2.1`, on a dual-stack socket), an IPv6 address by its
 * /64 — a single subscriber or host is handed a whole /64 and can use any address in it, so a cap
 * per IPv6 address would cap nothing. Many distinct IPv4 addresses or /64s are not stopped here:
 * the global cap and a reverse proxy or firewall are the defence against such floods.
 */
export function connectionGroup(addr: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped) return mapped[1]!;
  if (isIP(addr) !== 6) return addr;
  return `${expandIPv6(addr).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone dropped, `::` expanded, embedded IPv4 converted), as lowercase hex without leading zeros. */
function expandIPv6(addr: string): string[] {
  let text = addr.split('%')[0]!.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/**
 * The global connection cap (server.maxConnections) alone lets one client, even without a key,
 * lock every other out by opening that many sockets. So connections are also counted per client
 * address (IPv6: per /64, connectionGroup), and one over its cap is destroyed on accept; and a socket that never sends a byte is
 * closed after `firstByteMs`, well before the headers timeout.
 */
export function guardConnections(server: Server, settings: ConnectionGuardSettings): void {
  const open = new Map<string, number>();
  const exempt = blockListOf(settings.exempt);
  server.on('connection', (socket: Socket) => {
    const remote = socket.remoteAddress ?? '';
    if (settings.perAddress > 0 && !isExempt(exempt, remote)) {
      const addr = connectionGroup(remote);
      const n = (open.get(addr) ?? 0) + 1;
      if (n > settings.perAddress) {
        socket.destroy();
        return;
      }
      open.set(addr, n);
      socket.once('close', () => {
        const left = (open.get(addr) ?? 1) - 1;
        if (left <= 0) open.delete(addr);
        else open.set(addr, left);
      });
    }
    if (settings.firstByteMs > 0) {
      const timer = setTimeout(() => {
        if (socket.bytesRead === 0) socket.destroy();
      }, settings.firstByteMs);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    }
  });
}

/** Statuses after which the connection is closed, not kept alive while the client's body drains. */
const CLOSE_AFTER = new Set([401, 403, 413, 429]);

/** How long a closed connection still reads (and discards) what the client was sending. */
export const LINGER_MS = 2000;

/**
 * Ends the connection after the answer but keeps reading for LINGER_MS: closing a socket with
 * unread bytes sends a TCP reset, and a client still uploading its body would lose the answer
 * it was sent (a 401 read as a connection reset, retried as an outage). A client that closes in
 * turn frees the slot at once; one that keeps sending is cut off after the linger.
 */
function lingeringClose(socket: Socket): void {
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * A refused request's connection is closed after the answer (`Connection: close`): otherwise Node
 * keeps it until the announced body has arrived, and a client trickling a large Content-Length
 * holds the slot for the whole request timeout even after its 401. Node closes such a connection
 * with socket.destroySoon() once the answer is written; that one socket's is replaced by a lingering close.
 */
export function closeRefusedConnections(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!CLOSE_AFTER.has(reply.statusCode)) return payload;
    reply.header('connection', 'close');
    const socket = reply.raw.socket as (Socket & { destroySoon?: () => void }) | null;
    if (socket) socket.destroySoon = () => lingeringClose(socket);
    return payload;
  });
}
