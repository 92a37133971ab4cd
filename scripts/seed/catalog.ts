/**
 * What a Chilean radiology department produces: the modality mix, the exams per modality with
 * their Spanish descriptions and body parts, and the series layout of each. Instance counts are
 * scaled down about twentyfold from real CT/MR stacks (thick reconstructions only): the dcm4chee
 * tables carry 17 to 27 secondary indexes each, so every row costs, and the indexer reads the
 * derived counts, which stay exactly consistent with the rows written.
 */

export const SOP_CLASS: Readonly<Record<string, string>> = {
  CR: '1.2.840.10008.5.1.4.1.1.1',
  DX: '1.2.840.10008.5.1.4.1.1.1.1',
  MG: '1.2.840.10008.5.1.4.1.1.1.2',
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  US: '1.2.840.10008.5.1.4.1.1.6.1',
  PR: '1.2.840.10008.5.1.4.1.1.11.1',
  SR: '1.2.840.10008.5.1.4.1.1.88.22',
};

export interface Exam {
  description: string;
  bodyPart: string;
}

/** Series templates: description and [min, max] instances. */
export type SeriesTemplate = readonly [description: string, min: number, max: number];

export interface ModalityProfile {
  exams: readonly Exam[];
  /** Always-present series, then optional extra series drawn from `extra`. */
  base: readonly SeriesTemplate[];
  extra: readonly SeriesTemplate[];
  maxExtra: number;
}

const xray: ModalityProfile = {
  exams: [
    { description: 'RX DE TÓRAX AP Y LATERAL', bodyPart: 'CHEST' },
    { description: 'RX TÓRAX PA', bodyPart: 'CHEST' },
    { description: 'RX DE CADERA', bodyPart: 'HIP' },
    { description: 'RX COLUMNA CERVICAL', bodyPart: 'CSPINE' },
    { description: 'RX COLUMNA LUMBOSACRA', bodyPart: 'LSPINE' },
    { description: 'RX DE MUÑECA IZQUIERDA', bodyPart: 'HAND' },
    { description: 'RX DE PIE DERECHO', bodyPart: 'FOOT' },
    { description: 'RX DE RODILLA', bodyPart: 'KNEE' },
    { description: 'RX CAVIDADES PERINASALES', bodyPart: 'SKULL' },
    { description: 'RX ABDOMEN SIMPLE', bodyPart: 'ABDOMEN' },
  ],
  base: [['AP', 1, 2]],
  extra: [['LATERAL', 1, 1], ['OBLICUA', 1, 1]],
  maxExtra: 1,
};

export const PROFILES: Readonly<Record<string, ModalityProfile>> = {
  CR: xray,
  DX: xray,
  CT: {
    exams: [
      { description: 'TC DE TÓRAX', bodyPart: 'CHEST' },
      { description: 'TC CEREBRO SIN CONTRASTE', bodyPart: 'HEAD' },
      { description: 'TC ABDOMEN Y PELVIS CON CONTRASTE', bodyPart: 'ABDOMEN' },
      { description: 'ANGIO TC DE TÓRAX', bodyPart: 'CHEST' },
      { description: 'PIELOTC', bodyPart: 'ABDOMEN' },
      { description: 'TC CAVIDADES PARANASALES', bodyPart: 'HEAD' },
      { description: 'TC DE COLUMNA LUMBAR', bodyPart: 'LSPINE' },
      { description: 'TC DE CALCÁNEO', bodyPart: 'FOOT' },
    ],
    base: [['SCOUT', 1, 2], ['AXIAL 5.0', 2, 10]],
    extra: [['CORONAL MPR', 1, 6], ['SAGITAL MPR', 1, 6], ['FASE VENOSA', 2, 8]],
    maxExtra: 1,
  },
  MR: {
    exams: [
      { description: 'RM CEREBRO', bodyPart: 'HEAD' },
      { description: 'RM DE RODILLA IZQUIERDA', bodyPart: 'KNEE' },
      { description: 'RM COLUMNA LUMBAR', bodyPart: 'LSPINE' },
      { description: 'RM DE HOMBRO DERECHO', bodyPart: 'SHOULDER' },
      { description: 'RM PELVIS', bodyPart: 'PELVIS' },
      { description: 'RM DE ÓRBITAS', bodyPart: 'HEAD' },
    ],
    base: [['LOCALIZADOR', 1, 3], ['T2 AXIAL', 2, 8]],
    extra: [['T1 SAGITAL', 1, 6], ['FLAIR', 1, 6], ['DIFUSIÓN', 1, 6], ['T1 GADOLINIO', 1, 6]],
    maxExtra: 2,
  },
  US: {
    exams: [
      { description: 'ECOGRAFÍA ABDOMINAL', bodyPart: 'ABDOMEN' },
      { description: 'ECOTOMOGRAFÍA OBSTÉTRICA', bodyPart: 'PELVIS' },
      { description: 'ECOGRAFÍA MAMARIA BILATERAL', bodyPart: 'BREAST' },
      { description: 'ECOGRAFÍA TIROIDEA', bodyPart: 'NECK' },
      { description: 'ECO DOPPLER VENOSO EXTREMIDAD INFERIOR', bodyPart: 'LEG' },
      { description: 'ECOGRAFÍA RENAL Y VESICAL', bodyPart: 'ABDOMEN' },
    ],
    base: [['', 1, 8]],
    extra: [],
    maxExtra: 0,
  },
  MG: {
    exams: [
      { description: 'MAMOGRAFÍA BILATERAL', bodyPart: 'BREAST' },
      { description: 'MAMOGRAFÍA DE PESQUISA', bodyPart: 'BREAST' },
      { description: 'MAMOGRAFÍA PROYECCIÓN ADICIONAL', bodyPart: 'BREAST' },
    ],
    base: [['R CC', 1, 1], ['L CC', 1, 1], ['R MLO', 1, 1], ['L MLO', 1, 1]],
    extra: [],
    maxExtra: 0,
  },
};

/** Studies' modality sets, as `mods_in_study` spells them (dcm4chee joins with a backslash). */
export const MODALITY_MIX: ReadonlyArray<readonly [readonly string[], number]> = [
  [['CR'], 25],
  [['DX'], 14],
  [['CT'], 18],
  [['CT', 'SR'], 4],
  [['MR'], 9],
  [['MR', 'PR'], 2],
  [['US'], 15],
  [['US', 'SR'], 2],
  [['MG'], 7],
  [['CR', 'PR'], 2],
  [['DX', 'PR'], 2],
];

/** The series a secondary modality adds to a study (a dose report, a key-image note…). */
export const SECONDARY_SERIES: Readonly<Record<string, SeriesTemplate>> = {
  SR: ['REPORTE DE DOSIS', 1, 1],
  PR: ['ESTADO DE PRESENTACIÓN', 1, 3],
};

export const STATIONS: Readonly<Record<string, readonly string[]>> = {
  CR: ['CR_URGENCIA', 'FCR_SALA1'],
  DX: ['DR_SALA2', 'DX_PORTATIL'],
  CT: ['TC_SOMATOM', 'TC_OPTIMA'],
  MR: ['RM_AVANTO'],
  US: ['ECO_LOGIQ', 'ECO_ACUSON', 'ECO_URG'],
  MG: ['MAMO_SELENIA'],
  SR: ['TC_SOMATOM', 'US_SR'],
  PR: ['WS_INFORMES'],
};
