import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_AET, type OrthancServer } from '../../../../helpers/orthanc.js';

/**
 * Many distinct studies made from real DICOM files (python3-pydicom's test files): copies whose
 * identifying tags are rewritten with DCMTK's dcmodify, including messy values real archives
 * hold (non-ASCII names, impossible dates, missing tags).
 */
const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const BASE: Record<string, string> = { CT: 'CT_small.dcm', MR: 'MR_small.dcm' };

export interface SeriesSpec {
  modality: string;
  instances: number;
}

export interface StudySpec {
  studyIuid: string;
  patientId: string;
  /** DICOM PN; null: the tag is removed. */
  patientName: string | null;
  birthDate: string | null;
  sex: string | null;
  studyDate: string | null;
  studyTime: string | null;
  description: string | null;
  accession: string | null;
  series: SeriesSpec[];
}

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

export function requireDicomTools(): void {
  for (const f of Object.values(BASE)) {
    if (!existsSync(join(PYDICOM_FILES, f))) throw new Error('python3-pydicom test files missing: apt-get install -y python3-pydicom');
  }
  try {
    execFileSync('dcmodify', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('DCMTK missing: apt-get install -y dcmtk');
  }
}

const NAMES = ['Muñoz^José', 'Ñandú^Begoña^María', "O'Brien^Seán", 'Müller^Jürgen', 'PÉREZ^ANA', 'Smith^John'];
const DATES = ['20240115', '19991231', '20230230', null, '2001-05-06', '20200229'];
const MODALITY_SETS: SeriesSpec[][] = [
  [{ modality: 'CT', instances: 2 }],
  [{ modality: 'MR', instances: 1 }, { modality: 'MR', instances: 2 }],
  [{ modality: 'CT', instances: 1 }, { modality: 'SR', instances: 1 }],
  [{ modality: 'US', instances: 3 }],
];

/** `count` varied studies; `tag` keeps their patient IDs apart between calls. */
export function makeStudySpecs(count: number, tag: string): StudySpec[] {
  return Array.from({ length: count }, (_, i) => ({
    studyIuid: newUid(),
    patientId: `${tag}-${String(i).padStart(4, '0')}`,
    patientName: i % 11 === 5 ? null : NAMES[i % NAMES.length]!,
    birthDate: i % 7 === 3 ? '19801340' : i % 5 === 0 ? null : `19${50 + (i % 49)}0${1 + (i % 9)}1${i % 10}`,
    sex: ['M', 'F', 'O', null][i % 4]!,
    studyDate: DATES[i % DATES.length]!,
    studyTime: i % 3 === 0 ? '101530.123' : i % 3 === 1 ? '0845' : null,
    description: i % 4 === 2 ? null : `Estudio ${i} tórax`,
    accession: i % 5 === 4 ? null : `ACC${tag}${i}`,
    series: MODALITY_SETS[i % MODALITY_SETS.length]!,
  }));
}

function setOrErase(args: string[], tagKey: string, value: string | null): void {
  if (value === null) args.push('-ea', tagKey);
  else args.push('-i', `${tagKey}=${value}`);
}

/** Writes the study's instances into `dir`; returns their paths. */
export function writeStudyFiles(spec: StudySpec, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const series of spec.series) {
    const seriesUid = newUid();
    for (let n = 0; n < series.instances; n++) {
      const file = join(dir, `${files.length}-${newUid()}.dcm`);
      copyFileSync(join(PYDICOM_FILES, BASE[series.modality] ?? BASE.CT!), file);
      const args = ['-nb', '-imt', '-i', '(0008,0005)=ISO_IR 192', '-i', `(0020,000D)=${spec.studyIuid}`, '-i', `(0020,000E)=${seriesUid}`,
        '-i', `(0008,0018)=${newUid()}`, '-i', `(0010,0020)=${spec.patientId}`, '-i', `(0008,0060)=${series.modality}`,
        '-i', `(0020,0013)=${n + 1}`, '-ea', '(0010,0021)'];
      setOrErase(args, '(0010,0010)', spec.patientName);
      setOrErase(args, '(0010,0030)', spec.birthDate);
      setOrErase(args, '(0010,0040)', spec.sex);
      setOrErase(args, '(0008,0020)', spec.studyDate);
      setOrErase(args, '(0008,0030)', spec.studyTime);
      setOrErase(args, '(0008,1030)', spec.description);
      setOrErase(args, '(0008,0050)', spec.accession);
      execFileSync('dcmodify', [...args, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      files.push(file);
    }
  }
  return files;
}

export async function uploadFiles(orthanc: OrthancServer, files: readonly string[]): Promise<void> {
  for (const f of files) await orthanc.rest('POST', '/instances', readFileSync(f));
}

/** Sends files over DICOM C-STORE, as a modality would. */
export function storeFiles(orthanc: OrthancServer, files: readonly string[]): void {
  execFileSync('storescu', ['-aet', STORE_AET, '-aec', 'ORTHANC', '127.0.0.1', String(orthanc.dicomPort), ...files], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Writes and uploads the studies over REST. */
export async function loadStudies(orthanc: OrthancServer, specs: readonly StudySpec[], dir: string): Promise<void> {
  for (const spec of specs) await uploadFiles(orthanc, writeStudyFiles(spec, join(dir, spec.patientId)));
}
