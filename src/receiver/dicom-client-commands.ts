import { isIP } from 'node:net';
import { ConfigError } from '../shared/errors.js';
import type { ReceiverCommandLine } from './cli.js';
import { AE_TITLE } from './config-schema.js';
import { peerAddress } from './dimse/peer-address.js';
import type { DicomClientStore } from './store/dicom-client-store.js';

/** `dicom-clients add|list|remove`: the workstations allowed to query over DICOM (docs/dimse.md). */

/** Blanks around an AE title are not part of it (the association's fields are blank-padded). */
function aetOf(given: string | undefined): string {
  const aet = (given ?? '').trim();
  if (!AE_TITLE.test(aet)) throw new ConfigError(`AE title ${JSON.stringify((given ?? '').slice(0, 40))} is invalid: expected 1-16 printable ASCII characters without a backslash`);
  return aet;
}

/** An address as the service sees a peer's (IPv4-mapped IPv6 is its IPv4 address; IPv6 in lower case). */
function hostOf(given: string | undefined): string | null {
  if (given === undefined) return null;
  const host = peerAddress(given.trim());
  if (isIP(host) === 0) throw new ConfigError(`--host ${JSON.stringify(given.slice(0, 60))} is invalid: expected an IPv4 or IPv6 address (not a name: names are not resolved per association)`);
  // IPv6 in its canonical (compressed) form, as a socket reports the peer: 0:0:0:0:0:0:0:1 is ::1.
  return isIP(host) === 6 ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
}

export async function runDicomClientCommand(cli: ReceiverCommandLine, clients: DicomClientStore, stdout: (text: string) => void): Promise<number> {
  switch (cli.command) {
    case 'dicom-clients add': {
      const aet = aetOf(cli.target);
      if (cli.token === undefined || cli.token === '') throw new ConfigError('dicom-clients add needs --token NAME: the read token this AE title acts as', { hint: 'see `indexer-receiver help dicom-clients add`' });
      const host = hostOf(cli.host);
      await clients.add(aet, cli.token, host);
      stdout(`DICOM client ${aet} added, acting as read token ${cli.token}${host ? `, from ${host} only` : ''}\n`);
      return 0;
    }
    case 'dicom-clients list':
      for (const c of await clients.list()) stdout(`${JSON.stringify(c)}\n`);
      return 0;
    case 'dicom-clients remove': {
      const aet = aetOf(cli.target);
      await clients.remove(aet);
      stdout(`DICOM client ${aet} removed\n`);
      return 0;
    }
    default:
      throw new ConfigError(`not a dicom-clients command: ${cli.command}`);
  }
}
