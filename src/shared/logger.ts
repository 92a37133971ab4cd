import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Patient data must never reach a log line at any level: these paths are censored wherever a
 * record, row or query parameter object is logged by mistake. Code must still not log them on purpose.
 */
export const REDACT_PATHS = [
  'patient_id', 'patient_name', 'patient_birthdate', 'pat_id', 'pat_name', 'pat_birthdate',
  '*.patient_id', '*.patient_name', '*.patient_birthdate', '*.pat_id', '*.pat_name', '*.pat_birthdate',
  'record.*', 'records', 'row', 'rows', 'body', 'params.patient_id', 'query.patient_id', 'query.name',
];

export interface LoggerOptions {
  level?: string;
  /** Human-readable output (a terminal); JSON otherwise. */
  pretty?: boolean;
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    name: options.name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } });
  }
  return pino(base, pino.destination(2));
}
