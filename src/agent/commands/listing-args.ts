import { ConfigError } from '../../shared/errors.js';
import type { CommandContext } from '../command-context.js';

/** --limit N (default 50, at most 100000). */
export function limitOf(ctx: CommandContext, fallback = 50): number {
  const raw = ctx.flags.limit;
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new ConfigError(`--limit ${JSON.stringify(raw)} is invalid: expected a whole number from 1 to 100000`);
  return n;
}

/** Human text on a terminal, JSON when piped or with --json. */
export function wantsJson(ctx: CommandContext): boolean {
  return ctx.flags.json === true || ctx.stdoutInteractive !== true;
}

/** A capability the configured source lacks: said plainly, exit 2. */
export function notSupported(ctx: CommandContext, what: string, hint: string): ConfigError {
  return new ConfigError(`${what} is not supported by this source (source is "${ctx.config.source}")`, { hint });
}

export function formatAge(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}
