/** Values a source found present but unusable, per field, for the run summary. */
export interface ConversionStats {
  invalid_study_datetime: number;
  invalid_birthdate: number;
  /** Negative or overflowing counts: sent as null ("the source cannot tell"). */
  invalid_count: number;
  /** Records whose free text or modalities were cut to fit the receiver's columns. */
  truncated: number;
  /** Studies without a usable study_iuid: cannot be identified, not sent. */
  missing_iuid: number;
}

export function emptyConversionStats(): ConversionStats {
  return { invalid_study_datetime: 0, invalid_birthdate: 0, invalid_count: 0, truncated: 0, missing_iuid: 0 };
}

export function addConversionStats(into: ConversionStats, from: ConversionStats): void {
  into.invalid_study_datetime += from.invalid_study_datetime;
  into.invalid_birthdate += from.invalid_birthdate;
  into.invalid_count += from.invalid_count;
  into.truncated += from.truncated;
  into.missing_iuid += from.missing_iuid;
}
