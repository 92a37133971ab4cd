import { readFileSync } from 'node:fs';
import type { ReceiverSettings } from './config-schema.js';
import type { DicomServiceSettings } from './dimse/dicom-server.js';

/** The DICOM query service's settings (RECEIVER_DICOM_*), validated with the rest of the configuration. */
export interface DicomConfig extends DicomServiceSettings {
  /** Run inside `serve` too. */
  enabled: boolean;
}

function readPem(name: string, path: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    problems.push(`${name}=${JSON.stringify(path)} is invalid: expected a readable PEM file`);
    return undefined;
  }
}

/** The TLS files, when DICOM is served: a half-configured pair, an unreadable file, or a required client certificate without a CA is a problem. */
function dicomTls(t: ReceiverSettings['dicom']['tls'], problems: string[]): DicomConfig['tls'] {
  if (t.cert === null && t.key === null) {
    if (t.ca !== null || t.require_client_cert) problems.push('RECEIVER_DICOM_TLS_CA and RECEIVER_DICOM_TLS_REQUIRE_CLIENT_CERT need RECEIVER_DICOM_TLS_CERT and RECEIVER_DICOM_TLS_KEY (TLS is off without them)');
    return undefined;
  }
  if (t.cert === null) problems.push('RECEIVER_DICOM_TLS_CERT="" is invalid: expected a PEM certificate path (RECEIVER_DICOM_TLS_KEY is set)');
  if (t.key === null) problems.push('RECEIVER_DICOM_TLS_KEY="" is invalid: expected a PEM private key path (RECEIVER_DICOM_TLS_CERT is set)');
  if (t.require_client_cert && t.ca === null) problems.push('RECEIVER_DICOM_TLS_REQUIRE_CLIENT_CERT=true needs RECEIVER_DICOM_TLS_CA (the CA the client certificates are verified against)');
  const cert = t.cert === null ? undefined : readPem('RECEIVER_DICOM_TLS_CERT', t.cert, problems);
  const key = t.key === null ? undefined : readPem('RECEIVER_DICOM_TLS_KEY', t.key, problems);
  const ca = t.ca === null ? undefined : readPem('RECEIVER_DICOM_TLS_CA', t.ca, problems);
  if (!cert || !key) return undefined;
  return { cert, key, ...(ca ? { ca } : {}), requireClientCert: t.require_client_cert };
}

export function dicomConfigOf(d: ReceiverSettings['dicom'], serves: boolean, problems: string[]): DicomConfig {
  return {
    enabled: d.enabled, host: d.host, port: d.port, aet: d.aet, maxResults: d.max_results, maxAssociations: d.max_associations,
    associationTimeoutMs: d.association_timeout_ms, idleTimeoutMs: d.idle_timeout_ms,
    tls: serves ? dicomTls(d.tls, problems) : undefined,
  };
}
