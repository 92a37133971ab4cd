import { startOrthanc, type OrthancServer } from '../../helpers/orthanc.js';

/**
 * A real Orthanc with its DICOMweb plugin, as a DICOMweb *client* of the receiver: each entry of
 * `servers` becomes a `DicomWeb.Servers` remote. HTTP on loopback only, no authentication.
 */
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export type RemoteServer = { Url: string; HttpHeaders?: Record<string, string>; Username?: string; Password?: string; Timeout?: number };

export interface OrthancDicomWebClient {
  readonly log: string;
  /** `POST /dicom-web/servers/{name}/get`: Orthanc queries the remote and relays its answer. */
  get(server: string, uri: string, args?: Record<string, string>): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

function clientOf(orthanc: OrthancServer): OrthancDicomWebClient {
  return {
    get log() {
      return orthanc.log;
    },
    async get(server, uri, args = {}) {
      const res = await fetch(`${orthanc.url}/dicom-web/servers/${server}/get`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Uri: uri, Arguments: args }),
      });
      return { status: res.status, body: await res.text() };
    },
    stop: () => orthanc.stop(),
  };
}

export async function startOrthancDicomWebClient(servers: Record<string, RemoteServer>): Promise<OrthancDicomWebClient> {
  const orthanc = await startOrthanc({
    verbose: true,
    config: { Name: 'indexer-dicomweb-client', Plugins: [DICOMWEB_PLUGIN], DicomWeb: { Enable: true, Root: '/dicom-web/', Servers: servers } },
  });
  return clientOf(orthanc);
}
