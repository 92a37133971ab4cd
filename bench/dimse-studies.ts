import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { prng } from './receiver-data.js';

/**
 * The PACS's content for the `dimse` crawl figure: one-instance CT studies made from pydicom's
 * CT_small.dcm by python3-pydicom in one process (dcmodify costs a process per file), each with
 * its own study, series and SOP instance UIDs, date, time and patient. Dates cover `days` days
 * back from today, weekdays busier than weekends, with a few busy days.
 */
const BASE_FILE = '/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm';
/** Debian's interpreter first: python3-pydicom is installed for it, not for a pyenv python3 on PATH. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

const GENERATE = `
import sys, uuid, pydicom
base = pydicom.dcmread(sys.argv[1])
out = sys.argv[2]
uid = lambda: '2.25.%d' % uuid.uuid4().int
for n, line in enumerate(sys.stdin):
    date, time, patient = line.split()
    base.StudyInstanceUID = uid()
    base.SeriesInstanceUID = uid()
    base.SOPInstanceUID = uid()
    base.file_meta.MediaStorageSOPInstanceUID = base.SOPInstanceUID
    base.StudyDate = date
    base.StudyTime = time
    base.PatientID = patient
    base.AccessionNumber = 'B%07d' % n
    base.save_as('%s/%06d.dcm' % (out, n), write_like_original=True)
`;

export interface PlannedStudy {
  /** DICOM DA (YYYYMMDD). */
  date: string;
  /** DICOM TM (HHMMSS). */
  time: string;
  patientId: string;
}


const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** The local date `back` days before `today`, as DICOM DA (the agent's days are local dates too). */
export function dicomDay(today: Date, back: number): string {
  const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`;
}

/** `studies` studies over `days` days ending today: weekends a quarter of a weekday, ~4 % of days ten times busier. */
export function planStudies(studies: number, days: number, today = new Date()): PlannedStudy[] {
  const next = prng(20_251_201);
  const weights: number[] = [];
  for (let back = 0; back < days; back += 1) {
    const weekday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back).getDay();
    weights.push((weekday === 0 || weekday === 6 ? 0.25 : 1) * (next() < 0.04 ? 10 : 1));
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const patients = Math.max(1, Math.round(studies * 0.7));
  const out: PlannedStudy[] = [];
  for (let i = 0; i < studies; i += 1) {
    let pick = next() * total;
    let back = 0;
    while (back < days - 1 && pick >= weights[back]!) pick -= weights[back++]!;
    const seconds = 7 * 3600 + Math.floor(next() * 13 * 3600);
    out.push({
      date: dicomDay(today, back), time: `${pad(Math.floor(seconds / 3600))}${pad(Math.floor(seconds / 60) % 60)}${pad(seconds % 60)}`,
      patientId: `BENCH-${pad(Math.floor(next() * patients), 6)}`,
    });
  }
  return out;
}

/** Why the files cannot be made here (no pydicom), or null with the interpreter that can. */
export function findPython(): { python: string } | { missing: string } {
  if (!existsSync(BASE_FILE)) return { missing: `pydicom's ${path.basename(BASE_FILE)} missing: apt-get install -y python3-pydicom` };
  const python = PYTHONS.find((p) => spawnSync(p, ['-c', 'import pydicom'], { stdio: 'ignore' }).status === 0);
  return python ? { python } : { missing: 'python3-pydicom missing: apt-get install -y python3-pydicom' };
}

/** Writes one DICOM file per planned study into `dir` (existing, empty); returns their paths. */
export function writeStudyFiles(python: string, plan: readonly PlannedStudy[], dir: string): string[] {
  const input = plan.map((s) => `${s.date} ${s.time} ${s.patientId}\n`).join('');
  const run = spawnSync(python, ['-c', GENERATE, BASE_FILE, dir], { input, encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (run.status !== 0) throw new Error(`generating DICOM files failed: ${run.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(dir, f));
  if (files.length !== plan.length) throw new Error(`generated ${files.length} of ${plan.length} DICOM files`);
  return files;
}
