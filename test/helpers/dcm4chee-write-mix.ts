import { Dcm4cheeWriter } from './dcm4chee-writer.js';

/** How many writes of each kind a mix performed, for the benchmark's report. */
export interface WriteMixCounts {
  patients: number;
  studies: number;
  series: number;
  instances: number;
  patientUpdates: number;
  checks: number;
  merges: number;
  deletes: number;
}

const MODALITIES = ['CT', 'MR', 'CR', 'US', 'DX', 'SR'];
const NAMES = ['MUÑOZ^JOSÉ', 'PEÑA^MARÍA', 'GONZÁLEZ^ANA', 'ÑUÑOA^PEDRO', 'SMITH^JOHN'];

/**
 * A deterministic dcm4chee-like day in miniature: `n` studies arrive (a new patient every third),
 * each gets two series (the derived-field UPDATEs), the consistency check rewrites checked_time,
 * every 10th study's patient is corrected, every 25th a patient merge, every 20th an older study
 * is deleted. Same `n` → same statements, so runs with and without triggers compare fairly.
 */
export async function writeMix(writer: Dcm4cheeWriter, n: number, instancesPerSeries = 4): Promise<WriteMixCounts> {
  const counts: WriteMixCounts = { patients: 0, studies: 0, series: 0, instances: 0, patientUpdates: 0, checks: 0, merges: 0, deletes: 0 };
  const patients: number[] = [];
  const studies: number[] = [];
  for (let i = 0; i < n; i += 1) {
    if (i % 3 === 0 || patients.length === 0) {
      patients.push(await writer.createPatient({ patId: `${10_000_000 + i}-${i % 10}`, name: NAMES[i % NAMES.length]!, birthdate: '19800101', sex: i % 2 ? 'F' : 'M' }));
      counts.patients += 1;
    }
    const patientPk = patients[patients.length - 1]!;
    const studyPk = await writer.storeStudy(patientPk, { desc: 'TAC DE CRÁNEO', accession: `A${i}` });
    studies.push(studyPk);
    counts.studies += 1;
    for (let s = 0; s < 2; s += 1) {
      await writer.addSeries(studyPk, { modality: MODALITIES[(i + s) % MODALITIES.length]!, instances: instancesPerSeries });
      counts.series += 1;
      counts.instances += instancesPerSeries;
    }
    await writer.touchCheckedTime(studyPk);
    counts.checks += 1;
    if (i % 10 === 9) {
      await writer.renamePatient(patientPk, `${NAMES[(i + 1) % NAMES.length]!}^CORR`);
      counts.patientUpdates += 1;
    }
    if (i % 25 === 24 && patients.length >= 2) {
      const prior = patients.splice(patients.length - 2, 1)[0]!;
      await writer.mergePatients(patientPk, prior, 'link');
      counts.merges += 1;
    }
    if (i % 20 === 19) {
      await writer.deleteStudy(studies.splice(0, 1)[0]!);
      counts.deletes += 1;
    }
  }
  return counts;
}
