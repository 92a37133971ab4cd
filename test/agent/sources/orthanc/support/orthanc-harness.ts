import { createReceiverClient } from '../../../../../src/agent/delivery/receiver-client.js';
import type { Delivery } from '../../../../../src/agent/delivery/delivery.js';
import { OrthancClient } from '../../../../../src/agent/sources/orthanc/orthanc-client.js';
import type { PassDeps } from '../../../../../src/agent/pipeline/run-pass.js';
import type { ProgressSink } from '../../../../../src/agent/pipeline/progress.js';
import { OrthancSource } from '../../../../../src/agent/sources/orthanc/orthanc-source.js';
import { DeliveryError } from '../../../../../src/shared/errors.js';
import { createLogger } from '../../../../../src/shared/logger.js';
import type { StudyRecord } from '../../../../../src/shared/study-record.js';
import type { CentralReceiver } from '../../../../helpers/central-receiver.js';
import type { OrthancServer } from '../../../../helpers/orthanc.js';

export const CENTER = 'ORT1';
export const KEY = 'key-ort1';
export const silentLog = createLogger({ level: 'silent' });
export const quietProgress: ProgressSink = { interactive: false, stderr: () => undefined, log: silentLog };

export function receiverDelivery(receiver: CentralReceiver): Delivery {
  return createReceiverClient({
    url: receiver.url, center: CENTER, key: KEY, batch_size: 7, max_in_flight: 1,
    http: { timeout_ms: 5000, deadline_ms: 30_000, max_response_bytes: 1 << 24, retries: 1, min_backoff_ms: 5, max_backoff_ms: 20, ca_file: null },
  }, silentLog);
}

/** A delivery whose `failAfter + 1`-th send fails as an unreachable receiver would. */
export function failingDelivery(inner: Delivery, failAfter: number): Delivery {
  let sends = 0;
  return {
    send(records, signal) {
      sends += 1;
      if (sends > failAfter) return Promise.reject(new DeliveryError('RECEIVER_UNAVAILABLE', 'injected: receiver down'));
      return inner.send(records, signal);
    },
    close: () => inner.close(),
  };
}

export function clientFor(orthanc: OrthancServer, url = orthanc.url): OrthancClient {
  return new OrthancClient({ url, timeoutMs: 10_000 });
}

export function openSource(client: OrthancClient, stateFile: string, newStudy = false): Promise<OrthancSource> {
  return OrthancSource.open({ client, center: CENTER, stateFile, newStudy });
}

export function passDeps(source: OrthancSource, delivery: Delivery, readChunk: number): PassDeps {
  return { source, delivery, log: silentLog, signal: new AbortController().signal, readChunk };
}

export interface Projected {
  patient_id: string | null;
  patient_name: string | null;
  study_description: string | null;
  study_series: number | null;
  study_instances: number | null;
  modalities: string[];
}

const text = (v: string | undefined): string | null => (v === undefined || v.trim() === '' ? null : v.trim());

/** Orthanc's content read independently of the agent's mapping, keyed by StudyInstanceUID. */
export async function orthancContent(orthanc: OrthancServer): Promise<Map<string, Projected>> {
  type Expanded = { ID: string; MainDicomTags: Record<string, string>; PatientMainDicomTags: Record<string, string> };
  const out = new Map<string, Projected>();
  for (const s of await orthanc.rest<Expanded[]>('GET', '/studies?expand')) {
    const stats = await orthanc.rest<{ CountSeries: number; CountInstances: number }>('GET', `/studies/${s.ID}/statistics`);
    const series = await orthanc.rest<{ MainDicomTags: Record<string, string> }[]>('GET', `/studies/${s.ID}/series`);
    out.set(s.MainDicomTags.StudyInstanceUID!, {
      patient_id: text(s.PatientMainDicomTags.PatientID),
      patient_name: text(s.PatientMainDicomTags.PatientName),
      study_description: text(s.MainDicomTags.StudyDescription),
      study_series: stats.CountSeries,
      study_instances: stats.CountInstances,
      modalities: [...new Set(series.map((x) => x.MainDicomTags.Modality!))].sort(),
    });
  }
  return out;
}

/** The receiver's live records of the centre, projected like orthancContent. */
export async function receiverContent(receiver: CentralReceiver): Promise<Map<string, Projected>> {
  const out = new Map<string, Projected>();
  for (const [iuid, r] of await receiver.held(CENTER)) {
    if (r.deleted) continue;
    out.set(iuid, {
      patient_id: r.patient_id, patient_name: r.patient_name, study_description: r.study_description,
      study_series: r.study_series, study_instances: r.study_instances, modalities: [...r.modalities].sort(),
    });
  }
  return out;
}

export async function recordOf(receiver: CentralReceiver, iuid: string): Promise<StudyRecord | undefined> {
  return (await receiver.held(CENTER)).get(iuid);
}
