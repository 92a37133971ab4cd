/** An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d: its address is a.b.c.d. */
export function peerAddress(remote: string | undefined): string {
  const a = remote ?? '';
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a) ? a.slice(7) : a.toLowerCase();
}
