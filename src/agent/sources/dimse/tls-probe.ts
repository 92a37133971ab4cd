import { connect } from 'node:tls';

/**
 * Whether host:port answers a TLS handshake: asked only after a plain-DICOM association was hung
 * up on unanswered, to tell "this port requires TLS" from other refusals. The server's certificate
 * is not checked (nothing is sent over it); any server hello, or a TLS alert, means TLS.
 */
export function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, rejectUnauthorized: false });
    const done = (answer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', (err) => done(/alert|certificate/i.test(err.message)));
  });
}
