import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1 and a
 * client certificate signed by it, and an unrelated CA (a certificate the client must refuse).
 */
export interface TestCerts {
  dir: string;
  paths: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; otherCa: string };
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  otherCa: Buffer;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function selfSigned(dir: string, name: string, subject: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', subject]);
}

function signed(dir: string, name: string, subject: string, ext: string | null): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  const extArgs = ext === null ? [] : ['-extfile', ext];
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...extArgs]);
}

export function makeTestCerts(dir: string): TestCerts {
  selfSigned(dir, 'ca', '/CN=pacs-indexer test CA');
  selfSigned(dir, 'other-ca', '/CN=someone else');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  signed(dir, 'server', '/CN=localhost', 'server.ext');
  signed(dir, 'client', '/CN=INDEXER', null);
  const paths = {
    ca: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'), clientKey: join(dir, 'client.key'), otherCa: join(dir, 'other-ca.crt'),
  };
  return {
    dir, paths,
    ca: readFileSync(paths.ca), serverCert: readFileSync(paths.serverCert), serverKey: readFileSync(paths.serverKey),
    clientCert: readFileSync(paths.clientCert), clientKey: readFileSync(paths.clientKey), otherCa: readFileSync(paths.otherCa),
  };
}
