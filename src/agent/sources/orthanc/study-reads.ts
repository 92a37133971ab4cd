import type { StudyRecord } from '../../../shared/study-record.js';
import { runLimited } from '../../run-limited.js';
import type { ConversionStats } from '../../record/conversion-stats.js';
import { tombstoneRecord } from '../../record/tombstone-record.js';
import type { OrthancClient } from './orthanc-client.js';
import { mapOrthancStudy } from './study-mapping.js';
import type { StudyIndex } from './study-index.js';

/** A study read live, with the Orthanc ID it was read under. */
export interface LiveStudy {
  id: string;
  record: StudyRecord;
}

export interface StudyReads {
  live: LiveStudy[];
  /** IDs Orthanc no longer has (deleted between the listing or change and the read). */
  gone: string[];
}

/** Reads studies (the study, then its series) a few at a time: Orthanc serves each from its index. */
export async function readStudies(
  client: OrthancClient, ids: readonly string[], center: string, version: number, stats: ConversionStats, concurrency: number,
): Promise<StudyReads> {
  const out: StudyReads = { live: [], gone: [] };
  const results = await runLimited(ids, concurrency, async (id) => {
    const study = await client.study(id);
    const series = study ? await client.studySeries(id) : null;
    if (!study || !series) return { id, record: undefined, gone: true };
    return { id, record: mapOrthancStudy(study, series, center, version, stats) ?? undefined, gone: false };
  });
  for (const r of results) {
    if (r.gone) out.gone.push(r.id);
    else if (r.record) out.live.push({ id: r.id, record: r.record });
  }
  return out;
}

export interface ChunkRecords {
  records: StudyRecord[];
  /** Live studies to remember in the index before sending. */
  live: LiveStudy[];
  tombstones: number;
}

/**
 * One record per study_iuid: the live studies, then a tombstone for each gone study the index
 * knows (one never sent needs none). Orthanc keys a study by PatientID + StudyInstanceUID, so the
 * same UID can live on under another patient ID: such a study is sent live instead of the
 * tombstone, as a live record wins over a tombstone in the dcm4chee source.
 */
export async function assembleChunk(
  client: OrthancClient, index: StudyIndex, reads: StudyReads, center: string, version: number, stats: ConversionStats, concurrency: number,
): Promise<ChunkRecords> {
  const byIuid = new Map<string, LiveStudy>();
  for (const s of reads.live) byIuid.set(s.record.study_iuid, s);
  const deadIuids = new Set<string>();
  for (const id of reads.gone) {
    const iuid = index.iuidOf(id);
    if (iuid !== undefined && !byIuid.has(iuid)) deadIuids.add(iuid);
  }
  const tombstones: StudyRecord[] = [];
  await runLimited([...deadIuids], concurrency, async (iuid) => {
    const others = (await client.studiesWithUid(iuid)).filter((id) => !reads.gone.includes(id));
    const again = others.length > 0 ? await readStudies(client, others.slice(0, 1), center, version, stats, 1) : undefined;
    const survivor = again?.live[0];
    if (survivor) byIuid.set(iuid, survivor);
    else tombstones.push(tombstoneRecord(center, iuid, null, version));
  });
  const live = [...byIuid.values()];
  return { records: [...live.map((s) => s.record), ...tombstones], live, tombstones: tombstones.length };
}
