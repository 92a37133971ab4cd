import { IndexerError } from '../../shared/errors.js';
import type { Command } from '../command-context.js';

export const run: Command = async () => {
  throw new IndexerError('INVALID_INPUT', '`indexer uninstall` is not implemented yet');
};
