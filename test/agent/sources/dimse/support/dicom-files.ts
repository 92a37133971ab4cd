import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Real DICOM files made from python3-pydicom's test files (CT_small.dcm, MR_small.dcm) with
 * DCMTK's dcmodify: each study its own StudyInstanceUID, patient, date and texts, written as
 * exact bytes in the chosen character set (values go through files, `-if`, so a latin1 name is
 * really latin1 on disk, and a file may declare no character set at all).
 */
const PYDICOM_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const BASE = { CT: 'CT_small.dcm', MR: 'MR_small.dcm' } as const;

export type Charset =
  /** SpecificCharacterSet ISO_IR 100, texts in latin1. */
  | 'ISO_IR 100'
  /** SpecificCharacterSet ISO_IR 192, texts in UTF-8. */
  | 'ISO_IR 192'
  /** No SpecificCharacterSet; texts in UTF-8 anyway (an archive that never declares). */
  | 'none-utf8'
  /** No SpecificCharacterSet; texts in latin1. */
  | 'none-latin1';

export interface StudySpec {
  studyUid: string;
  patientId: string;
  patientName: string | null;
  issuer: string | null;
  birthDate: string | null;
  sex: string | null;
  studyDate: string | null;
  studyTime: string | null;
  description: string | null;
  accession: string | null;
  studyId: string | null;
  referring: string | null;
  charset: Charset;
  series: { modality: keyof typeof BASE; instances: number }[];
}

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

export function requireDicomTools(): void {
  for (const f of Object.values(BASE)) {
    if (!existsSync(join(PYDICOM_FILES, f))) throw new Error('python3-pydicom test files missing: apt-get install -y python3-pydicom');
  }
  for (const tool of ['dcmodify', 'storescu', 'dcmqrscp']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`DCMTK's ${tool} missing: apt-get install -y dcmtk`);
    }
  }
}

/** A study spec with plain defaults; `over` sets what the test cares about. */
export function studySpec(over: Partial<StudySpec> & Pick<StudySpec, 'patientId'>): StudySpec {
  return {
    studyUid: newUid(), patientName: null, issuer: null, birthDate: null, sex: null, studyDate: null, studyTime: null,
    description: null, accession: null, studyId: null, referring: null, charset: 'ISO_IR 192', series: [{ modality: 'CT', instances: 1 }],
    ...over,
  };
}

const TEXT_TAGS: [keyof StudySpec, string][] = [
  ['patientName', '(0010,0010)'], ['description', '(0008,1030)'], ['referring', '(0008,0090)'], ['issuer', '(0010,0021)'],
];
const ASCII_TAGS: [keyof StudySpec, string][] = [
  ['patientId', '(0010,0020)'], ['birthDate', '(0010,0030)'], ['sex', '(0010,0040)'], ['studyDate', '(0008,0020)'],
  ['studyTime', '(0008,0030)'], ['accession', '(0008,0050)'], ['studyId', '(0020,0010)'],
];

function textArgs(spec: StudySpec, dir: string): string[] {
  const latin1 = spec.charset === 'ISO_IR 100' || spec.charset === 'none-latin1';
  const args = spec.charset.startsWith('none') ? ['-ea', '(0008,0005)'] : ['-i', `(0008,0005)=${spec.charset}`];
  for (const [field, tag] of TEXT_TAGS) {
    const value = spec[field] as string | null;
    if (value === null) {
      args.push('-ea', tag);
      continue;
    }
    const file = join(dir, `${field}-${randomUUID()}.bin`);
    const bytes = Buffer.from(value, latin1 ? 'latin1' : 'utf8');
    // dcmodify takes a value from a file only at even length: DICOM pads text with a space.
    writeFileSync(file, bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from(' ')]));
    args.push('-if', `${tag}=${file}`);
  }
  for (const [field, tag] of ASCII_TAGS) {
    const value = spec[field] as string | null;
    args.push(...(value === null ? ['-ea', tag] : ['-i', `${tag}=${value}`]));
  }
  return args;
}

/** Writes the study's instances into `dir` (created); returns their paths. */
export function writeStudyFiles(spec: StudySpec, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const texts = textArgs(spec, dir);
  const files: string[] = [];
  for (const series of spec.series) {
    const seriesUid = newUid();
    for (let n = 0; n < series.instances; n++) {
      const file = join(dir, `${spec.patientId}-${files.length}.dcm`);
      copyFileSync(join(PYDICOM_FILES, BASE[series.modality]), file);
      const args = ['-nb', '-imt', '-i', `(0020,000D)=${spec.studyUid}`, '-i', `(0020,000E)=${seriesUid}`, '-i', `(0008,0018)=${newUid()}`,
        '-i', `(0008,0060)=${series.modality}`, '-i', `(0020,0013)=${n + 1}`, ...texts];
      execFileSync('dcmodify', [...args, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      files.push(file);
    }
  }
  return files;
}
